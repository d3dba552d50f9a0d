import { ErrorCodes, TslvsError } from '../../errors.js';

export async function main(_argv: string[]): Promise<number> {
  throw new TslvsError(ErrorCodes.USAGE, "'tslvs import-keepalived' is not implemented yet");
}
