// Prints the path of a runnable Xray, building and caching it on first use.
// CI runs this in its install phase so the (slow) Go build is not counted against the tests.
import { ensureXrayBinary, xrayVersion } from '../infra/xray/binary';

ensureXrayBinary()
  .then(async (bin) => {
    const version = await xrayVersion(bin).catch(() => 'unknown');
    process.stderr.write(`xray ${version}\n`);
    process.stdout.write(`${bin}\n`);
  })
  .catch((e: Error) => {
    process.stderr.write(`ensure-xray: ${e.message}\n`);
    process.exit(1);
  });
