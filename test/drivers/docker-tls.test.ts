import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { AddressInfo, connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, Server } from 'node:tls';
import { InfrastructureError } from '../../src/domain/errors';
import { createDockerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { parseEngineAddress } from '../../src/drivers/docker/docker-endpoint';
import { inspectContainer, removeContainersByLabel, testDockerEndpoint, testImage, uniqueName } from '../support/docker';

/**
 * A TLS engine the way `dockerd --tlsverify` serves one: a server certificate from a private CA,
 * client certificates required. Here a TLS terminator in front of the test engine plays the engine.
 */

const TEST_LABEL = 'io.ecoware.test';
const TEST_VALUE = 'docker-driver-tls';

let dir: string;
let certPath: string;
let server: Server;
let url: string;
const sockets: Socket[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ecoware test CA');
  const sign = (name: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
      '-out', `${name}-cert.pem`, '-days', '1', '-extfile', `${name}.ext`);
  };
  sign('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sign('client', 'extendedKeyUsage=clientAuth\n');
  // The layout DOCKER_CERT_PATH uses.
  certPath = join(dir, 'client-certs');
  execFileSync('mkdir', [certPath]);
  writeFileSync(join(certPath, 'ca.pem'), readFileSync(join(dir, 'ca.pem')));
  writeFileSync(join(certPath, 'cert.pem'), readFileSync(join(dir, 'client-cert.pem')));
  writeFileSync(join(certPath, 'key.pem'), readFileSync(join(dir, 'client-key.pem')));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ecoware-tls-'));
  makeCertificates();
  const engineAddress = parseEngineAddress(testDockerEndpoint());
  server = createServer({
    key: readFileSync(join(dir, 'server-key.pem')),
    cert: readFileSync(join(dir, 'server-cert.pem')),
    ca: readFileSync(join(dir, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
    // A client that has sent all of stdin still reads the output, as with dockerd's own CloseWrite.
    allowHalfOpen: true,
  }, (client) => {
    const upstream = engineAddress.transport === 'unix'
      ? connect({ path: engineAddress.socketPath, allowHalfOpen: true })
      : connect({ port: engineAddress.port, host: engineAddress.host, allowHalfOpen: true });
    sockets.push(client, upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  // Raw connections too: one refused in the handshake never reaches the handler above.
  server.on('connection', (socket: Socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  sockets.forEach((s) => s.destroy());
  await closed;
  rmSync(dir, { recursive: true, force: true });
});

describe('DockerContainerRuntime over TLS', () => {
  it('speaks TLS with client certificates: containers, files and exec with stdin', async () => {
    const runtime = createDockerRuntime({ url, certPath });
    await expect(runtime.ping()).resolves.toBeUndefined();

    const name = uniqueName('ecodrv-tls');
    const created = await runtime.create({
      name, app: 'drvapp', tier: 'tls', vm: 'local', image: testImage(), cpuset: [0], memoryMb: 32,
      ports: [], environment: {}, args: [], extraHosts: [], labels: { [TEST_LABEL]: TEST_VALUE },
    });
    expect((await inspectContainer(name))!.Id).toBe(created.id);

    await runtime.putFile(created.id, '/tmp/in.txt', 'over tls');
    expect((await runtime.readFile(created.id, '/tmp/in.txt')).toString()).toBe('over tls');
    const result = await runtime.exec(created.id, { argv: ['cat'], stdin: 'through the tunnel', timeoutMs: 20_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'through the tunnel' });

    await runtime.remove(created.id);
    expect(await inspectContainer(created.id)).toBeUndefined();
  });

  it('https:// is TLS too', async () => {
    await expect(createDockerRuntime({ url: url.replace('tcp://', 'https://'), certPath }).ping()).resolves.toBeUndefined();
  });

  it('fails with InfrastructureError without the client certificates', async () => {
    const error = await createDockerRuntime({ url: url.replace('tcp://', 'https://') }).ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as Error).message).toContain(url.replace('tcp://', 'https://'));
  });

  it('names the missing certificate file', () => {
    expect(() => createDockerRuntime({ url, certPath: join(dir, 'nowhere') })).toThrow(/cannot read TLS file .*nowhere\/ca\.pem/);
  });
});
