import { FakeContainerRuntime } from '../../src/drivers/fake/fake-container-runtime';
import { runtimeContract } from '../support/runtime-contract';

const runtime = new FakeContainerRuntime({ kind: 'docker', url: 'fake://contract' });

runtimeContract('FakeContainerRuntime', { volumes: true, systemNetworks: true }, () => ({
  runtime,
  image: 'busybox',
  labels: {},
  async cleanup() {
    for (const id of [...runtime.containers.keys()]) await runtime.remove(id);
  },
}));
