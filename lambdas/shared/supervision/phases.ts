/**
 * Phases of a cycle: topological levels of the agents' declared dependencies (Kahn's algorithm),
 * and each phase's split by fault domain with its share of `maxWorkers`.
 *
 * Pure functions only.
 */
import { FAULT_DOMAIN_NAMES, perFaultDomain, type FaultDomainName, type Phase, type WorkItem } from '../contracts';

/** A node of the dependency graph. */
export interface DependencyNode {
  readonly name: string;
  /** Names this node depends on. Names outside the node set are ignored here (the planner skips such agents). */
  readonly dependsOn: readonly string[];
}

/**
 * Topological levels (Kahn): level 0 holds the nodes without dependencies inside the set, level
 * n the nodes whose dependencies all sit in levels < n. Order inside a level follows input order.
 * @returns the levels, each a list of names; empty input gives `[]`.
 * @throws {Error} `dependency cycle among: a, b` when the graph has a cycle (the config schema
 *   rejects cycles at synth, so this only guards hand-made settings).
 */
export function topologicalLevels(nodes: readonly DependencyNode[]): string[][] {
  const names = new Set(nodes.map((n) => n.name));
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    const deps = [...new Set(n.dependsOn)].filter((d) => names.has(d));
    indegree.set(n.name, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), n.name]);
  }
  const levels: string[][] = [];
  let current = nodes.filter((n) => indegree.get(n.name) === 0).map((n) => n.name);
  let placed = 0;
  while (current.length > 0) {
    levels.push(current);
    placed += current.length;
    const nextSet = new Set<string>();
    for (const name of current) {
      for (const dep of dependents.get(name) ?? []) {
        const left = indegree.get(dep)! - 1;
        indegree.set(dep, left);
        if (left === 0) nextSet.add(dep);
      }
    }
    current = nodes.filter((n) => nextSet.has(n.name)).map((n) => n.name);
  }
  if (placed < nodes.length) {
    const stuck = nodes.filter((n) => (indegree.get(n.name) ?? 0) > 0).map((n) => n.name);
    throw new Error(`dependency cycle among: ${stuck.join(', ')}`);
  }
  return levels;
}

/**
 * Shares of `maxWorkers` for one phase's fault-domain Maps (`MaxConcurrencyPath`).
 *
 * - every domain gets at least 1 (ASL: `MaxConcurrency` 0 means unlimited, so an empty domain gets 1);
 * - when the phase has more non-empty domains than `maxWorkers`, each non-empty domain still gets 1,
 *   so the phase may run up to 3 agents at once (one per domain) even with `maxWorkers` 1 or 2;
 * - otherwise the remaining workers go one at a time to the domain with the highest
 *   `items / (share + 1)` (D'Hondt highest averages, i.e. proportional to item counts), never above
 *   a domain's item count; the shares of non-empty domains sum to at most `maxWorkers`.
 */
export function concurrencyShares(counts: Record<FaultDomainName, number>, maxWorkers: number): Record<FaultDomainName, number> {
  const shares: Record<FaultDomainName, number> = perFaultDomain(() => 1);
  const nonEmpty = FAULT_DOMAIN_NAMES.filter((d) => counts[d] > 0);
  let remaining = maxWorkers - nonEmpty.length;
  while (remaining > 0) {
    let best: FaultDomainName | undefined;
    let bestScore = 0;
    for (const d of nonEmpty) {
      if (shares[d] >= counts[d]) continue;
      const score = counts[d] / (shares[d] + 1);
      if (score > bestScore) {
        best = d;
        bestScore = score;
      }
    }
    if (!best) break;
    shares[best] += 1;
    remaining -= 1;
  }
  return shares;
}

/**
 * Builds one phase from its work items: split by fault domain (order kept) with
 * {@link concurrencyShares}.
 */
export function buildPhase(index: number, items: readonly WorkItem[], maxWorkers: number): Phase {
  const byDomain = perFaultDomain((): WorkItem[] => []);
  for (const item of items) byDomain[item.faultDomain].push(item);
  const concurrency = concurrencyShares(
    perFaultDomain((d) => byDomain[d].length),
    maxWorkers,
  );
  return { index, ...byDomain, concurrency };
}

/**
 * Finds one dependency cycle among agents, if any (depth-first search; the config schema uses it to
 * name the cycle at synth).
 * @returns the names along the cycle, first name repeated at the end (`a -> b -> a`), or undefined.
 */
export function findDependencyCycle(agents: readonly DependencyNode[]): string[] | undefined {
  const deps = new Map(agents.map((a) => [a.name, a.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of deps.get(name) ?? []) {
      if (!deps.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const a of agents) {
    const found = visit(a.name);
    if (found) return found;
  }
  return undefined;
}
