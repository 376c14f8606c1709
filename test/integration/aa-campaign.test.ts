// The A/A property of `churn compare` with real runs of the built CLI against the built-in core
// (scripts/aa-campaign.ts, whose full version runs 20 pairs of 10 s runs by hand): 20 pairs of
// identical runs, each pair two fresh runs side by side, give at most one pair with any
// verdict; +40 ms injected into `start` is a regression on start's latency, and nothing is
// flagged but start latency and the cycle. A verdict on anything else in the slower pair is a
// false alarm like a flag in an identical pair: the 21 pairs share the budget of one. Runs are 3 s at 10 arrivals/s (open loop) to keep
// the test near three minutes on a busy 2-core machine.
import { describe, expect, it } from 'vitest';
import { runAaCampaign } from '../../scripts/aa-campaign.js';

describe('compare: the A/A property on real runs', () => {
  it(
    '20 identical pairs and one +40 ms pair: start flagged, at most 1 false alarm in all',
    { timeout: 900_000 },
    async () => {
      const result = await runAaCampaign({ pairs: 20, slowerPairs: 1, durationMs: 3000 });
      // The figures, for the log: per pair its verdicts and wall time.
      for (const p of result.pairs) {
        console.log(
          `${p.kind} ${p.index + 1}: ${(p.elapsedMs / 1000).toFixed(1)}s ${p.flagged.join(', ') || '~'}`,
        );
      }
      const aa = result.pairs.filter((p) => p.kind === 'a/a');
      expect(aa).toHaveLength(20);
      const flagged = aa.filter((p) => p.flagged.length > 0).map((p) => p.flagged.join(', '));
      const slower = result.pairs.filter((p) => p.kind === 'slower');
      for (const pair of slower) {
        expect(
          pair.flagged.filter((f) => f.startsWith('start ')),
          pair.flagged.join(', '),
        ).not.toEqual([]);
      }
      expect(result.slowerFound).toBe(slower.length);
      expect(
        result.falseAlarmPairs,
        [...flagged, ...result.strayVerdicts].join('\n'),
      ).toBeLessThanOrEqual(1);
      expect(result.falseAlarmPairs).toBe(
        flagged.length + (result.strayVerdicts.length > 0 ? 1 : 0),
      );
      expect(result.ok).toBe(true);
    },
  );
});
