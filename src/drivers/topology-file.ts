import { promises as fs } from 'fs';

/** The topology document of `--topology FILE`, read when it is needed (JSON); none without a file. */
export function topologyFile(file: string | undefined): () => Promise<unknown> {
  return async () => (file ? JSON.parse(await fs.readFile(file, 'utf8')) : undefined);
}
