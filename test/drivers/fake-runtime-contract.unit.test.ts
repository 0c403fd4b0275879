import { FakeContainerRuntime } from '../../src/drivers/fake/fake-container-runtime';
import { runtimeContract } from '../support/runtime-contract';

function subject(runtime: FakeContainerRuntime) {
  return () => ({
    runtime,
    image: 'busybox',
    labels: {},
    async cleanup() {
      for (const id of [...runtime.containers.keys()]) await runtime.remove(id);
    },
  });
}

runtimeContract('FakeContainerRuntime', { volumes: true, systemNetworks: true }, subject(new FakeContainerRuntime({ kind: 'docker', url: 'fake://contract' })));

const unpinned = new FakeContainerRuntime({ kind: 'docker', url: 'fake://unpinned' });
unpinned.pinsCores = false;
runtimeContract('FakeContainerRuntime that does not pin cores', { volumes: true, systemNetworks: true }, subject(unpinned));
