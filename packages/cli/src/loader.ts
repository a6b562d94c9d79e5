/**
 * Petrel runs its TypeScript sources through tsx's loader. A child Node process started by the
 * `petrel` command (onebox's servers, the benchmark) needs the loader too: this process's own
 * Node flags when they load it (`node --import tsx …`, as `npm start` runs), or else tsx's loader
 * added by its resolved path (`bin/petrel.js` registers it from inside, which a child does not
 * inherit).
 */
export function childNodeFlags(): string[] {
  const own = process.execArgv;
  const loads = own.some((flag, i) => (flag.startsWith('--import=') || flag.startsWith('--loader=') || own[i - 1] === '--import' || own[i - 1] === '--loader') && flag.includes('tsx'));
  return loads ? [...own] : [...own, '--import', import.meta.resolve('tsx')];
}
