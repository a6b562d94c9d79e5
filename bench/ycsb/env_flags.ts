/** Space-separated command-line flags from an environment variable (unset or empty: none). */
export function flagsFromEnv(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter((flag) => flag !== '');
}
