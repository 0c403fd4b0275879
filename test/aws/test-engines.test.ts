import { createConnection } from 'node:net';
import { dockerClient } from '../../dev/local-cloud/dockerd-engine';
import { startEngine, TestEngine } from '../support/engines';

/** The extra engines other tests build static multi-node pools from. */
const TEST_IMAGE = process.env.ECOWARE_TEST_IMAGE ?? 'ecoware/busybox:latest';

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

describe('startEngine', () => {
  const engines: TestEngine[] = [];
  afterAll(async () => { await Promise.all(engines.map((e) => e.stop())); });

  it('starts separate engines on their own addresses, each with the test image, publishing ports on its address', async () => {
    engines.push(...(await Promise.all([startEngine(1), startEngine(2)])));
    const [a, b] = engines;
    expect(a.address).not.toBe(b.address);
    expect(a.endpoint).toBe(`tcp://${a.address}:2375`);

    const docker = dockerClient(a.address, 2375);
    const infoA = await docker.info();
    const infoB = await dockerClient(b.address, 2375).info();
    expect(infoA.DockerRootDir).not.toBe(infoB.DockerRootDir);
    expect((await dockerClient(b.address, 2375).listImages()).flatMap((i) => i.RepoTags ?? [])).toContain(TEST_IMAGE);

    const container = await docker.createContainer({
      Image: TEST_IMAGE, Cmd: ['httpd', '-f', '-p', '8080', '-h', '/'], ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostPort: '18080' }] } },
    });
    await container.start();
    let answered = false;
    for (let i = 0; i < 50 && !answered; i++) {
      answered = await portAnswers(a.address, 18080);
      if (!answered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answered).toBe(true);
    expect(await portAnswers(b.address, 18080)).toBe(false);
  });

  it('stop() takes the engine and its containers away', async () => {
    const [a] = engines;
    await a.stop();
    await expect(dockerClient(a.address, 2375).ping()).rejects.toThrow();
    expect(await portAnswers(a.address, 18080)).toBe(false);
  });
});
