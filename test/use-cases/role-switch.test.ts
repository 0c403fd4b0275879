import { LeaseSignals, RoleSwitch, RoleTerm } from '../../src/use-cases/daemon/role-switch';

/** A lease whose holder the test decides. */
class FakeLease implements LeaseSignals {
  currentFence: { epoch: number } | undefined;
  private readonly leading: (() => void)[] = [];
  private readonly lost: (() => void)[] = [];
  onLeading(listener: () => void) { this.leading.push(listener); }
  onLost(listener: () => void) { this.lost.push(listener); }
  take(epoch: number) { this.currentFence = { epoch }; for (const l of this.leading) l(); }
  lose() { this.currentFence = undefined; for (const l of this.lost) l(); }
}

/** A term that writes down what happens to it, in one journal shared by all terms. */
function terms(journal: string[]) {
  let n = 0;
  const make = (role: 'leader' | 'standby', epoch?: number): RoleTerm & { name: string } => {
    const name = `${role}${epoch ?? ''}#${++n}`;
    return {
      name, role, epoch,
      prepare: async () => { journal.push(`${name} prepare`); },
      serve: async () => { journal.push(`${name} serve`); },
      stop: async (how) => { journal.push(`${name} stop ${how}`); },
    };
  };
  return { leader: (epoch: number) => make('leader', epoch), standby: () => make('standby') };
}

describe('the role switch', () => {
  it('stands by, leads when it takes the lease, stands by again when it loses it, and leads afresh under a new epoch', async () => {
    const lease = new FakeLease();
    const journal: string[] = [];
    const answering: string[] = [];
    const roles = new RoleSwitch(lease, terms(journal), (t) => answering.push(t.name));
    await roles.settle();
    lease.take(1);
    await roles.settle();
    lease.lose();
    await roles.settle();
    lease.take(3);
    await roles.settle();
    await roles.close();
    expect(journal).toEqual([
      'standby#1 prepare', 'standby#1 serve',
      // The standby's term ends before the leader's starts.
      'standby#1 stop lost', 'leader1#2 prepare', 'leader1#2 serve',
      // The standby's app answers first; the lost leader's term ends behind it.
      'standby#3 prepare', 'leader1#2 stop lost', 'standby#3 serve',
      'standby#3 stop lost', 'leader3#4 prepare', 'leader3#4 serve',
      'leader3#4 stop shutdown',
    ]);
    expect(answering).toEqual(['standby#1', 'leader1#2', 'standby#3', 'leader3#4']);
    await expect(roles.serving).resolves.toBeUndefined();
    await expect(roles.leading).resolves.toBeUndefined();
  });

  it('starts a new leader\'s term when the lease was lost and taken again before the switch ran', async () => {
    const lease = new FakeLease();
    const journal: string[] = [];
    const roles = new RoleSwitch(lease, terms(journal));
    lease.take(1);
    await roles.settle();
    lease.currentFence = { epoch: 2 };
    await roles.settle();
    expect(journal).toEqual(['leader1#1 prepare', 'leader1#1 serve', 'leader1#1 stop lost', 'leader2#2 prepare', 'leader2#2 serve']);
    // Asked again with nothing changed: nothing happens.
    await roles.settle();
    expect(journal).toHaveLength(5);
  });

  it('changes nothing once closing, even when the lease is taken meanwhile', async () => {
    const lease = new FakeLease();
    const journal: string[] = [];
    const roles = new RoleSwitch(lease, terms(journal));
    await roles.settle();
    const closed = roles.close();
    lease.take(1);
    await closed;
    await roles.settle();
    expect(journal).toEqual(['standby#1 prepare', 'standby#1 serve', 'standby#1 stop shutdown']);
    expect(roles.current?.role).toBe('standby');
  });
});
