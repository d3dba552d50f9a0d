import { parseConfigText } from '../../src/control/config/load.js';
import type { NormalizeContext } from '../../src/control/config/secrets.js';

/** A context with no environment and no secret files, so tests never depend on the host. */
export const isolated: NormalizeContext = {
  env: {},
  readSecretFile(path) {
    throw new Error(`no such file in this test: ${path}`);
  },
};

export function parseYaml(text: string, ctx: NormalizeContext = isolated) {
  return parseConfigText(text, 'test.yaml', ctx);
}
