import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';

/**
 * Saves images of a source engine (default: DOCKER_HOST or the default socket) as `docker save`
 * archives, one per image, so that fresh engines can load them without a registry.
 */
export async function saveImages(images: string[], dir: string, sourceDocker?: string): Promise<string[]> {
  const docker = sourceDocker ? clientFor(sourceDocker) : new Docker();
  const tars: string[] = [];
  for (const image of images) {
    const tar = join(dir, `${image.replace(/[^A-Za-z0-9_.-]/g, '_')}.tar`);
    try {
      const stream = await docker.getImage(image).get();
      await pipeline(stream, createWriteStream(tar));
    } catch (err) {
      throw new Error(`cannot save image ${image} from the source engine: ${(err as Error).message}`);
    }
    tars.push(tar);
  }
  return tars;
}

function clientFor(url: string): Docker {
  if (url.startsWith('unix://')) return new Docker({ socketPath: url.slice('unix://'.length), host: undefined } as Docker.DockerOptions);
  const parsed = new URL(url.replace(/^tcp:/, 'http:'));
  return new Docker({ host: parsed.hostname, port: Number(parsed.port), protocol: 'http', socketPath: undefined } as Docker.DockerOptions);
}
