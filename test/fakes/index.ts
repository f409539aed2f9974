/**
 * Every vendor fake, keyed by the backend it serves. `npm run fake -- NAME` and the end-to-end
 * tests start fakes from this table.
 */
import { startAwsFake, startAwsSsmFake } from './aws.ts';
import { startAzureFake } from './azure.ts';
import type { RunningFake } from './fake.ts';
import { startGcpFake } from './gcp.ts';
import { startVaultFake } from './vault.ts';

export type StartFake = (options?: { port?: number }) => Promise<RunningFake>;

export const fakes: Readonly<Record<string, StartFake>> = {
  aws: startAwsFake,
  'aws-ssm': startAwsSsmFake,
  gcp: startGcpFake,
  azure: startAzureFake,
  vault: startVaultFake,
};
