/**
 * The plugin's logger: pino JSON on stdout, which dockerd copies into its own log for managed
 * plugins. Log calls pass ids (volume, backend, secret reference, mount id) as fields and a fixed
 * message; no call site passes a secret value, and a test feeds a sentinel value to check it.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

// pino matches each path at one depth only, so every name is listed at the top and two levels down.
const credentialNames = ['password', 'token', 'secretAccessKey', 'clientSecret'];
const redactedPaths = credentialNames.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dsv' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Options objects are logged by reference name only; these paths would hold credentials.
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
