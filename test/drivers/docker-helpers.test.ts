import { ValidationError } from '../../src/domain/errors';
import { parseEngineAddress } from '../../src/drivers/docker/docker-endpoint';
import { DockerContainerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { parseCpuset } from '../../src/drivers/docker/docker-container-body';
import { testDockerEndpoint } from '../support/docker';
import { ExecOutput } from '../../src/drivers/docker/exec-output';
import { readFirstTarEntry, writeTar } from '../../src/drivers/docker/tar-archive';

describe('parseCpuset', () => {
  it.each([
    ['', []],
    ['0', [0]],
    ['0,1', [0, 1]],
    ['0-3,5', [0, 1, 2, 3, 5]],
    ['5,0-1', [0, 1, 5]],
    ['2-2', [2]],
  ])('%j -> %j', (text, cores) => {
    expect(parseCpuset(text)).toEqual(cores);
  });

  it('refuses what is not a cpuset', () => {
    expect(() => parseCpuset('a-b')).toThrow(/unreadable cpuset/);
  });
});

describe('parseEngineAddress', () => {
  it.each([
    [{ url: 'unix:///var/run/docker.sock' }, { transport: 'unix', socketPath: '/var/run/docker.sock' }],
    [{ url: 'tcp://10.0.0.5:2375' }, { transport: 'tcp', host: '10.0.0.5', port: 2375, tls: false }],
    [{ url: 'tcp://10.0.0.5:2376', certPath: '/certs' }, { transport: 'tcp', host: '10.0.0.5', port: 2376, tls: true }],
    [{ url: 'https://node.example:2376' }, { transport: 'tcp', host: 'node.example', port: 2376, tls: true }],
    [{ url: 'tcp://[::1]:2375' }, { transport: 'tcp', host: '::1', port: 2375, tls: false }],
  ])('%j', (endpoint, expected) => {
    expect(parseEngineAddress(endpoint)).toEqual(expected);
  });

  it.each(['unix://relative.sock', 'ftp://host:21', 'tcp://host', 'not a url'])('refuses %s', (url) => {
    expect(() => parseEngineAddress({ url })).toThrow(ValidationError);
  });

  it("reaches a node's own endpoint even when the process's DOCKER_HOST points elsewhere", async () => {
    const endpoint = testDockerEndpoint();
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    let runtime: DockerContainerRuntime;
    try {
      // docker-modem reads its defaults from the environment when the client is built.
      runtime = new DockerContainerRuntime(endpoint);
    } finally {
      process.env.DOCKER_HOST = saved;
    }
    await expect(runtime.ping()).resolves.toBeUndefined();
  });
});

describe('tar archive', () => {
  it('round-trips a file, directories first', () => {
    const content = Buffer.from('#!/bin/sh\necho hi\n');
    const archive = writeTar([
      { path: 'a', type: 'directory', mode: 0o755 },
      { path: 'a/hook.sh', type: 'file', mode: 0o755, content },
    ]);
    expect(archive.length % 512).toBe(0);
    expect(readFirstTarEntry(archive)).toEqual({ name: 'a/', typeflag: '5', content: Buffer.alloc(0) });
    const fileOnly = writeTar([{ path: 'hook.sh', type: 'file', mode: 0o755, content }]);
    expect(readFirstTarEntry(fileOnly)).toEqual({ name: 'hook.sh', typeflag: '0', content });
  });

  it('splits long paths into prefix and name', () => {
    const path = `${'d'.repeat(90)}/${'e'.repeat(90)}/file.txt`;
    const entry = readFirstTarEntry(writeTar([{ path, type: 'file', mode: 0o644, content: Buffer.from('x') }]));
    expect(entry?.name).toBe(path);
  });

  it('writes headers GNU tar reads', () => {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const archive = writeTar([
      { path: 'dir', type: 'directory', mode: 0o750 },
      { path: 'dir/file.txt', type: 'file', mode: 0o640, content: Buffer.from('hello') },
    ]);
    const listing = execFileSync('tar', ['-tvf', '-'], { input: archive }).toString();
    expect(listing).toMatch(/^drwxr-x---\s.*\sdir\/$/m);
    expect(listing).toMatch(/^-rw-r-----\s.*\s5\s.*\sdir\/file\.txt$/m);
  });
});

describe('ExecOutput', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it('demultiplexes frames split anywhere', () => {
    const data = Buffer.concat([frame(1, 'out1 '), frame(2, 'err'), frame(1, 'out2')]);
    const output = new ExecOutput(1000);
    for (let i = 0; i < data.length; i += 3) output.push(data.subarray(i, i + 3));
    expect(output.result()).toEqual({ stdout: 'out1 out2', stderr: 'err', truncated: false });
  });

  it('keeps at most maxBytes per stream', () => {
    const output = new ExecOutput(4);
    output.push(Buffer.concat([frame(1, 'abc'), frame(1, 'def'), frame(2, 'xy')]));
    expect(output.result()).toEqual({ stdout: 'abcd', stderr: 'xy', truncated: true });
  });
});
