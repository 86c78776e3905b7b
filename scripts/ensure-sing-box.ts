// Prints the path of a runnable sing-box (used only by the subscription tests), building it on first use.
// CI runs this in its install phase so the (slow) Go build is not counted against the tests.
import { ensureSingBoxBinary, singBoxVersion } from '../infra/sing-box/binary';

ensureSingBoxBinary()
  .then(async (bin) => {
    const version = await singBoxVersion(bin).catch(() => 'unknown');
    process.stderr.write(`sing-box ${version}\n`);
    process.stdout.write(`${bin}\n`);
  })
  .catch((e: Error) => {
    process.stderr.write(`ensure-sing-box: ${e.message}\n`);
    process.exit(1);
  });
