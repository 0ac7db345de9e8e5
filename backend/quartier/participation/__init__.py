"""The resident-participation toolkit: the mechanics every participation module (surveys, ideas,
feedback on measures) shares, implemented once.

- `codes`: receipt codes (Crockford base 32) and private follow links (secret tokens kept only
  as keyed hashes);
- `pseudonyms`: the respondent token a browser keeps and its keyed per-module pseudonym;
- `submissions`: Idempotency-Key handling of a resident's write;
- `places`: a social area chosen from a list, or a point resolved to the areas containing it,
  within the scope of the process;
- `text`: bounded free text with the NUL and control-character rules;
- `guard`: "is the module open in this phase" as one prebuilt SQL expression.

Layering: modules import this package; it imports `processes/`, `areas/`, `core/` and never a
module.
"""
