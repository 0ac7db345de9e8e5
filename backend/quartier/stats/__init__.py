"""Statistics shared by every aggregate Quartier publishes: confidence intervals of shares
(`intervals`), population weighting (`weighting`) and disclosure control (`cellkey`). Pure
functions over counts, no database: the domains count in SQL and hand the small grids here.

**Disclosure control — the one engine (issue #8, docs/PRIVACY.md).** Every figure derived
from residents goes through `cellkey.Release`; nothing else may publish a count.

1. Store a record key with every respondent row: `cellkey.new_record_key()` (random, 32 bit;
   survey responses have the column `record_key`, repeated in their derived rows; so do
   ideas, idea supports — one key per supporting resident and process — and measure
   feedback). New respondent rows need a `record_key` column of their own, filled the same
   way.
2. Count in SQL, and next to every `count(*)` take `sum(record_key)`; the pair is a
   `cellkey.Cell(count, key_sum)`. A cell is a *set of rows*: the same set must always be
   counted the same way, so that it gets the same key (and the same published value) in every
   table, level, format and page.
3. Make one `Release(k, min_respondents)` per publication (k and min_respondents of the
   survey; for pooled data the largest of them) and publish:
   * `release.count(cell)` — the perturbed count (0 for 0 … k − 1 and rarely more; never 1 … k − 1);
   * `release.respondents(cell)` — a group's n, or None: do not show the group (mark it only as
     "protected", never why);
   * `Release.share(count, n)` — shares only from published counts (intervals likewise: call
     `intervals.wilson(count, n)` with published values);
   * `Release.distribution_summary({value: published count})` — mean/median of a scale;
   * `release.number_summary(answered_cell, mean, median)` — free numbers (None: withhold);
   * `cellkey.weighted_share(...)` — weighted estimates from published stratum counts.
4. List every group of the level, whether it has respondents or not (an area without rows is
   the cell `cellkey.EMPTY` and is "protected" like a small one), so that absence says nothing.

Derive every other figure from published values only; never publish a true count, a true
mean, or a marker that tells which rule hid something.

"""
