import request from 'supertest';
import { redactUrlSecrets } from '../../src/domain/redact';
import { HookSource } from '../../src/ports/hook-source';
import { fakeDaemon } from '../support/fake-daemon';
import { shopTopology } from '../support/topologies';

/** Secrets in URLs never come back in an answer, and a topology read back and sent again keeps them. */
describe('secrets in URLs', () => {
  it('redacts the password of any URL in a string, and nothing else', () => {
    expect(redactUrlSecrets('clone https://bot:s3cr3t@git.example.org/hooks.git failed')).toBe('clone https://bot:***@git.example.org/hooks.git failed');
    expect(redactUrlSecrets('ssh://git@host/x and user@example.org')).toBe('ssh://git@host/x and user@example.org');
  });

  it('shows the hooks repository without its token, and a round trip keeps the token in force', async () => {
    const daemon = await fakeDaemon({ elastic: false });
    const synced: string[] = [];
    const source: HookSource = {
      sync: async (repo) => { synced.push(repo); return { commit: 'c0ffee' }; },
      currentCommit: () => 'c0ffee',
      has: async () => true,
      read: async () => Buffer.from('#!/bin/sh\n'),
    };
    daemon.services.hookSource = source;
    try {
      const api = request(daemon.app);
      const secretRepo = 'https://bot:s3cr3t-token@git.example.org/hooks.git';
      const put = await api.put('/api/topology').send(shopTopology({ infrastructure: { hooks_git_repo: secretRepo } }));
      expect(put.status).toBe(200);
      expect(JSON.stringify(put.body)).not.toContain('s3cr3t');
      const got = await api.get('/api/topology');
      expect(got.body.infrastructure.hooks_git_repo).toBe('https://bot:***@git.example.org/hooks.git');
      // Sent back as read: the token in force is kept, not replaced by the stars.
      expect((await api.put('/api/topology').send(got.body)).status).toBe(200);
      expect(synced).toEqual([secretRepo, secretRepo]);
      expect(daemon.knowledge.requireDeployment().topology.infrastructure.hooksGitRepo).toBe(secretRepo);
    } finally {
      await daemon.close();
    }
  });
});
