import path from 'node:path';

/** The project root (scripts/dev/ is two levels down). */
export const ROOT = path.resolve(__dirname, '..', '..');

/** `node --require tsx/cjs <file>`: one process per child (no tsx wrapper), so signals reach it directly. */
export function tsxCommand(file: string): [string, string[]] {
  return [process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, file)]];
}
