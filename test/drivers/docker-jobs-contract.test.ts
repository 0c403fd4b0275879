import { DockerContainerRuntime } from '../../src/drivers/docker/docker-container-runtime';
import { engine, removeContainersByLabel, TEST_LABEL, testDockerEndpoint, testImage } from '../support/docker';
import { CONTRACT_IMAGE_PREFIX, jobsRuntimeContract } from '../support/jobs-runtime-contract';

const TEST_VALUE = 'jobs-contract';
const runtime = new DockerContainerRuntime(testDockerEndpoint());

async function removeContractImages(): Promise<void> {
  const images = await engine().listImages();
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag.startsWith(CONTRACT_IMAGE_PREFIX)) await engine().getImage(tag).remove({ force: true }).catch(() => undefined);
    }
  }
}

jobsRuntimeContract('DockerContainerRuntime', () => ({
  runtime,
  reconnect: () => new DockerContainerRuntime(testDockerEndpoint()),
  image: testImage(),
  labels: { [TEST_LABEL]: TEST_VALUE },
  async cleanup() {
    await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
    await removeContractImages();
  },
}));

afterAll(async () => {
  await removeContainersByLabel(TEST_LABEL, TEST_VALUE);
  await removeContractImages();
});
