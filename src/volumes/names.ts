/** Docker's rule for volume names, one character allowed; it also keeps names safe as path components. */
const volumeNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

export function isVolumeName(name: string): boolean {
  return volumeNamePattern.test(name);
}
