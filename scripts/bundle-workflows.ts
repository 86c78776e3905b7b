import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';

/** Prebuilds the workflow bundle the production worker loads (dist/workflow-bundle.js). */
export async function bundleWorkflows(outFile: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return outFile;
}

if (require.main === module) {
  const out = process.argv[2] ?? path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');
  bundleWorkflows(out).then(
    (file) => console.log(`workflow bundle written to ${file}`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
