/**
 * Which tab runs libp2p for the node worker (p2p.listen / p2p.bootstrap): one tab per node. With a
 * SharedWorker every tab has a link to the worker, so the tabs elect one with a Web Lock named after
 * the database (`alys-light-p2p:<key>`); when it closes the lock passes and the next tab attaches.
 * With dedicated workers the tab that runs the worker (the database's leader) is the one. The leader
 * hands the worker a MessagePort (`p2p-attach`) on every new link (a restarted worker too) and serves
 * it with p2p-bridge/page.ts, imported only then: a page that is not the leader loads no libp2p.
 */
import type { ToNodeWorker } from './protocol.js';
import type { PageP2p } from '../p2p-bridge/page.js';

/** A link to the node worker that can transfer a port (a follower's relayed link cannot). */
export interface P2pAttachLink {
  post(msg: ToNodeWorker, transfer: Transferable[]): void;
}

export interface P2pLeader {
  /** The current link to the node worker (undefined: none, or one that cannot carry a port). */
  link(link: P2pAttachLink | undefined): void;
  /** This tab leaves: stop its libp2p host and pass the lock on. */
  close(): void;
}

/** `lockName` elects among tabs (SharedWorker); without one this tab is the leader whenever it has a link. */
export function createP2pLeader(lockName: string | undefined): P2pLeader {
  let leader = lockName === undefined;
  let current: P2pAttachLink | undefined;
  let serving: Promise<PageP2p | undefined> | undefined;
  let release: (() => void) | undefined;
  let closed = false;

  function stopServing(): void {
    const s = serving;
    serving = undefined;
    void s?.then((p) => p?.stop()).catch(() => {});
  }

  function serve(link: P2pAttachLink): void {
    const ch = new MessageChannel();
    link.post({ t: 'p2p-attach' }, [ch.port2]);
    // the port queues the worker's messages until page.ts listens
    serving = import('../p2p-bridge/page.js').then(
      (m) => {
        if (!closed) return m.servePageP2p(ch.port1);
        ch.port1.close();
        return undefined;
      },
      () => undefined,
    );
  }

  if (lockName !== undefined)
    void navigator.locks.request(lockName, () => {
      if (closed) return;
      leader = true;
      if (current) serve(current);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });

  return {
    link(link) {
      stopServing();
      current = link;
      if (leader && link && !closed) serve(link);
    },
    close() {
      closed = true;
      stopServing();
      current = undefined;
      release?.();
    },
  };
}
