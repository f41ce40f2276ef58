"""The settings schema: one frozen dataclass per section, all defaults here.

``lore.config`` builds a ``Settings`` from the layers (defaults < user file <
project ``lore.toml`` < ``LORE_*`` env < flags). Every field here is settable
from TOML as ``[section] field = value`` and from the environment as
``LORE_SECTION__FIELD``; the loader derives keys from these dataclasses, so a
new field needs no other change. Numbers carry their allowed range
(``metadata=_range(low, high)``): a zero budget or a negative ``rrf_k`` is a
``ConfigError`` naming the key, not a division by zero or 70,000 chunks later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lore.paths import DEFAULT_INDEX_DIR
from lore.types import FusionMethod, Precision, RerankProvider, SearchMode


def _range(low: float, high: float | None = None) -> dict[str, Any]:
    """Field metadata: the loader refuses values outside [low, high] (and NaN, infinity)."""
    return {"range": (low, high)}


@dataclass(frozen=True)
class IndexSettings:
    """Where the index lives and what gets indexed."""

    dir: str = DEFAULT_INDEX_DIR       # relative to the root, or absolute
    include: tuple[str, ...] = ("*.md", "*.markdown")
    exclude: tuple[str, ...] = ()      # gitignore-style patterns, on top of .gitignore/.loreignore
    max_file_bytes: int = field(default=10_000_000, metadata=_range(1))  # larger: skipped
    follow_symlinks: bool = True       # loops are detected and skipped
    # Links whose target lies outside the root (`p.md -> /etc/passwd`, `x -> /etc`) are
    # skipped unless this is on; a project lore.toml may only turn it on once trusted.
    follow_symlinks_outside: bool = False
    # How long `lore index` waits for another writer of the same index before giving up.
    lock_timeout_s: float = field(default=600.0, metadata=_range(0, 86_400))
    # The vector sidecar's storage: int8 holds a quarter of the memory at a small recall
    # cost (bench/vector_bench.py); a change rebuilds the sidecar from the catalog.
    vector_precision: Precision = "fp32"
    # Where the index is stored: "" for the local SQLite catalog + sidecar in ``dir``, or
    # "postgresql://user:password@host/db" for a shared PostgreSQL + pgvector database
    # (``pip install 'lore[postgres]'``; also LORE_STORE or --store).
    store: str = ""
    store_name: str = ""               # this root's name in a shared store; "": the folder's name
    # Full-text configuration of a new index in PostgreSQL: "lore_english" stems as the
    # local index does (Porter, no stopwords); any PostgreSQL configuration works too
    # ("german", ...), or "simple" (no stemming, any language).
    text_search: str = "lore_english"


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into chunks."""

    max_tokens: int = field(default=256, metadata=_range(8, 100_000))  # budget per chunk
    # smaller trailing sections merge into the previous chunk
    min_tokens: int = field(default=32, metadata=_range(0, 100_000))
    # documents up to this size stay one chunk
    whole_document_tokens: int = field(default=320, metadata=_range(0, 1_000_000))
    # Cut every chunk again with the embedding model's own tokenizer until it fits the
    # model's window (without it, a tail past the window is not embedded; `lore index`
    # says how many chunks lost one). Off by measurement: SciFact train hybrid nDCG@10
    # .7403 -> .7356 and backlog set a semantic .629 -> .620 with it on (it splits 26 % of
    # SciFact's chunks into pieces that each carry less of the abstract;
    # docs/decisions/backlog-ranking.md, chunk budgets).
    fit_window: bool = False


@dataclass(frozen=True)
class ProviderSettings:
    """One embedding provider instance (the primary, or one fallback)."""

    provider: str = "onnx"             # registry name: onnx, sentence-transformers, openai, ollama, sagemaker, hashing
    model: str = "all-MiniLM-L6-v2"
    revision: str = ""
    # None: take the model's; set: validated at construction
    dimensions: int | None = field(default=None, metadata=_range(1, 65_536))
    # onnx; int8 by measurement: docs/decisions/default-precision.md
    precision: Precision = "int8"
    batch_size: int = field(default=32, metadata=_range(1, 4096))
    # onnx parallel runs, one thread each; None: one per core
    threads: int | None = field(default=None, metadata=_range(1, 1024))
    query_prefix: str = ""
    document_prefix: str = ""
    max_tokens: int = field(default=256, metadata=_range(1, 1_000_000))
    base_url: str | None = None        # openai / ollama endpoint
    api_key_env: str | None = None     # env var holding the API key (never the key itself)
    endpoint_name: str | None = None   # sagemaker endpoint
    region: str | None = None          # sagemaker region
    model_path: str | None = None      # local model directory (onnx / sentence-transformers)
    timeout_s: float = field(default=30.0, metadata=_range(0.001, 3600))


@dataclass(frozen=True)
class EmbedSettings:
    """Embedding: the primary provider, its fallbacks, cache and offline rule."""

    enabled: bool = True               # False: keyword-only index
    primary: ProviderSettings = field(default_factory=ProviderSettings)
    fallback: tuple[ProviderSettings, ...] = ()   # same embedding space only
    offline: bool = False              # True: a remote provider is a configuration error
    cache: bool = True


@dataclass(frozen=True)
class SearchSettings:
    """Ranking: legs, fusion weights and boosts."""

    limit: int = field(default=10, metadata=_range(1, 10_000))
    mode: SearchMode = "hybrid"
    # Fusion defaults chosen on SciFact's *train* qrels (bench/tune_fusion.py), and still
    # its optimum with the document-level keyword leg: score fusion .7346 nDCG@10, any
    # vector weight 0.3-0.6 or RRF k 5-60 lower (docs/decisions/backlog-ranking.md).
    fusion: FusionMethod = "score"
    rrf_k: int = field(default=10, metadata=_range(1, 100_000))
    keyword_weight: float = field(default=0.55, metadata=_range(0))
    vector_weight: float = field(default=0.45, metadata=_range(0))
    id_weight: float = field(default=2.0, metadata=_range(0))
    # Fusion that adapts to the query (search/fusion.py adapt_weights): below this
    # IDF-weighted coverage of the query by the best keyword hit, keyword weight moves
    # to the vector leg in proportion; 0 turns it off. SciFact train nDCG@10
    # (bench/tune_fusion.py --adaptive): 0 .7338, 0.2 .7341, 0.3 .7346, 0.4 .7328,
    # 0.5 .7290; the backlog development set is unchanged at 0.3 (overall .904).
    keyword_full_coverage: float = field(default=0.3, metadata=_range(0, 1))
    # Keyword and vector weights scaled by each leg's spread ** this, their sum kept
    # (search/fusion.py spread_weights; 0 turns it off). SciFact train nDCG@10 at vector
    # 0.45 (bench/tune_fusion.py --spread): 0 .7346, 0.25 .7355, 0.4 .7372, 0.5 .7371,
    # 0.6 .7383, 0.75 .7389, 1 .7390; backlog dev semantic: .576 at 0, .577 at 0.4 and
    # 0.5, .570 at 0.6 and 0.75, .571 at 1 (docs/decisions/backlog-ranking.md).
    spread_exponent: float = field(default=0.5, metadata=_range(0, 4))
    # A document the vector leg found and the keyword leg did not keeps this share of its
    # vector contribution, plus the rest times the IDF-weighted share of the query's names
    # (terms written with a digit or an inner capital) it holds (search/shaping.py
    # name_shortfall; 1 turns it off). Chosen on SciFact train and the backlog sets
    # (docs/decisions/backlog-ranking.md, "Per-document coverage").
    vector_name_floor: float = field(default=0.5, metadata=_range(0, 1))
    candidates: int = field(default=100, metadata=_range(1, 100_000))  # per leg, before fusion
    # Rank pooled document vectors beside chunk vectors (search/vector.py). SciFact test
    # nDCG@10 with/without: vector 0.649/0.651, hybrid 0.732/0.734 — neutral on short
    # abstracts (1.6 chunks each); on by default for long multi-section items (kano:
    # 7.5 chunks per document), where a whole-document vector is what a query matches.
    document_vectors: bool = True
    title_weight: float = field(default=3.0, metadata=_range(0))  # BM25 column weights
    heading_weight: float = field(default=2.0, metadata=_range(0))
    body_weight: float = field(default=1.0, metadata=_range(0))
    # A document's keyword score: this share of its document-level BM25, the rest its
    # best chunk's (store/bm25.py; docs/decisions/keyword-scoring.md). SciFact train
    # nDCG@10 is 0.697-0.699 for any share from 0.5 to 1 (bm25s: 0.696); 0.5 keeps a
    # long page findable by its title (kano's 5,000-word SKILL.md: rank 4, not 108).
    document_share: float = field(default=0.5, metadata=_range(0, 1))
    # Term proximity: each two neighbouring content words of the query, as a phrase,
    # add this times their BM25 to a document's (and chunk's) keyword score (store/bm25.py;
    # 0 turns it off; the PostgreSQL store ranks without it). SciFact train hybrid nDCG@10
    # (bench/tune_keyword.py): 0 .7371, 0.05 .7394, 0.1 .7399, 0.2 .7394, 0.3 .7380, 0.5
    # .7341; backlog dev set a: no class down, semantic .577 -> .580, decision .925 -> .935.
    proximity_weight: float = field(default=0.1, metadata=_range(0))
    # A query word that matches no indexed token is also searched as its nearest indexed
    # word (1 edit for 4-7 letters, 2 for 8+; search/typos.py), with a notice.
    typo_correction: bool = True
    doctype_boosts: dict[str, float] = field(default_factory=dict)
    # Recency (search/boosts.py): weight * 0.5 ** (age / half-life) from front matter
    # updated/created/date. Off: there is no dated relevance data to choose a default on.
    recency_half_life_days: float = field(default=0.0, metadata=_range(0))  # 0: no decay
    recency_weight: float = field(default=0.0, metadata=_range(0))
    # Gitignore-style globs of local copies that rank below canonical files: agent-tool
    # copies in hidden folders (.claude/skills/..., .codex/...), caches, worksets.
    local_paths: tuple[str, ...] = (".*/**", "**/.cache/**", "**/worksets/**")
    # In score-fusion units (divided by rrf_k + 1 under RRF). 0.1 put the canonical
    # skills/.../SKILL.md above all its hidden copies for every title-word query on kano
    # (11 of 11 lost without it) while hidden-only answers stayed in the top 10.
    local_penalty: float = field(default=0.1, metadata=_range(0))
    # Added to chunks of ADRs and decision sections when the query asks why something
    # was decided (search/intent.py). Grid on bench/backlog, decision class nDCG@10
    # hybrid/keyword: 0 .839/.634, 0.1 .854/.795, 0.3 .899/.845, 0.5 .920/.848,
    # 0.7 .916/.846, 1.0 .898/.846 (other classes unchanged).
    decision_prior: float = field(default=0.5, metadata=_range(0))
    # A candidate gains this share of its best typed-linked candidate's fused score
    # (search/link_evidence.py; not for relation questions; 0 turns it off). Backlog dev
    # set a, hybrid semantic (overall): 0 .577 (.904), 0.1 .576 (.909), 0.2 .595 (.913),
    # 0.25 .601 (.914), 0.3 .610 (.916), 0.35 .610 (.919), 0.4 .597 (.918), 0.5 .598
    # (.918); with term proximity: 0 .580 (.906), 0.3 and 0.35 .629 (.922), 0.4 .642
    # (.925); no class below 0 anywhere (docs/decisions/backlog-ranking.md). SciFact has
    # no links: unchanged.
    link_evidence: float = field(default=0.35, metadata=_range(0, 2))


@dataclass(frozen=True)
class GraphSettings:
    """Typed-link expansion of the top hits (``--expand``) and context packing."""

    hops: int = field(default=1, metadata=_range(0, 5))
    decay: float = field(default=0.5, metadata=_range(0, 1))  # per extra hop
    seeds: int = field(default=5, metadata=_range(0, 1000))  # how many top hits expand
    # scale of expansion scores against fused scores
    weight: float = field(default=0.3, metadata=_range(0))
    # at most this many linked documents are appended
    max_added: int = field(default=10, metadata=_range(0, 10_000))
    edge_weights: dict[str, float] = field(default_factory=dict)  # overrides per edge kind
    # budget of `lore search --context`
    context_tokens: int = field(default=2000, metadata=_range(1, 10_000_000))


@dataclass(frozen=True)
class RerankSettings:
    """Optional second-stage reranker over the fused candidates (off by default)."""

    provider: RerankProvider = "none"
    model: str = ""                    # cross-encoder model name or local path
    base_url: str | None = None        # http reranker endpoint (``/rerank`` appended)
    candidates: int = field(default=30, metadata=_range(1, 10_000))
    time_budget_s: float = field(default=2.0, metadata=_range(0, 3600))


@dataclass(frozen=True)
class Settings:
    """All of lore's settings, built once at the entry point and passed down."""

    index: IndexSettings = field(default_factory=IndexSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    embed: EmbedSettings = field(default_factory=EmbedSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    graph: GraphSettings = field(default_factory=GraphSettings)
    rerank: RerankSettings = field(default_factory=RerankSettings)
