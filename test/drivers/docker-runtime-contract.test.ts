import { DockerContainerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { engine, removeContainersByLabel, TEST_LABEL, testDockerEndpoint, testImage } from '../support/docker';
import { runtimeContract } from '../support/runtime-contract';

const TEST_VALUE = 'runtime-contract';
const runtime = new DockerContainerRuntime(testDockerEndpoint());

runtimeContract('DockerContainerRuntime', { volumes: true, systemNetworks: true }, () => ({
  runtime,
  image: testImage(),
  labels: { [TEST_LABEL]: TEST_VALUE },
  async cleanup() {
    await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
  },
}));

afterAll(async () => {
  // Volumes and networks a failed case left behind.
  await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
  const { Volumes } = await engine().listVolumes();
  for (const v of Volumes ?? []) if (v.Name.startsWith('contract-')) await engine().getVolume(v.Name).remove().catch(() => undefined);
  for (const n of await engine().listNetworks()) if (n.Name.startsWith('contract-')) await engine().getNetwork(n.Id).remove().catch(() => undefined);
});
