"""One frozen configuration for both transformers we run, and exact parameter counts.

A causal pre-LayerNorm GPT (the mini model we train) and a bidirectional post-LayerNorm BERT
encoder (pretrained all-MiniLM-L6-v2) are the same code with different fields.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from transformer.errors import InvalidInput

NORMS = ("pre", "post")
GELUS = ("tanh", "erf")
POSITIONS = ("learned", "sinusoidal")


@dataclass(frozen=True)
class TransformerConfig:
    """Shape and wiring of a transformer.

    Examples
    --------
    >>> cfg = TransformerConfig(vocab_size=100, n_ctx=16, n_embd=32, n_head=4, n_layer=2)
    >>> cfg.n_inner, cfg.head_size
    (128, 8)
    """

    vocab_size: int            # V: rows of the token embedding W_E (and columns of W_U)
    n_ctx: int                 # T_max: the longest sequence (rows of the learned position table)
    n_embd: int                # C: width of the residual stream
    n_head: int                # H: attention heads per layer; C must divide by H
    n_layer: int               # L: transformer blocks
    n_inner: int = 0           # F: hidden width of each MLP; 0 means 4 * n_embd
    causal: bool = True        # mask future positions (a generator); False for an encoder (BERT)
    norm: str = "pre"          # "pre": x + f(ln(x)) as in GPT-2; "post": ln(x + f(x)) as in BERT
    gelu: str = "tanh"         # "tanh": GPT-2's approximation; "erf": the exact GELU BERT uses
    positions: str = "learned"  # "learned": a trained table wpe [T_max, C]; "sinusoidal": fixed sines
    tied_embeddings: bool = True  # W_U is W_E transposed (GPT-2); False gives a separate lm_head
    n_token_types: int = 0     # rows of the segment embedding wtt (BERT has 2); 0 means none
    norm_eps: float = 1e-5     # LayerNorm epsilon: GPT-2 1e-5, BERT 1e-12
    lm_head: bool = True       # an unembedding W_U to logits; False returns the last hidden states

    def __post_init__(self):
        if self.n_inner == 0:
            object.__setattr__(self, "n_inner", 4 * self.n_embd)
        for name in ("vocab_size", "n_ctx", "n_embd", "n_head", "n_layer", "n_inner"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise InvalidInput(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        for name, allowed in (("norm", NORMS), ("gelu", GELUS), ("positions", POSITIONS)):
            if getattr(self, name) not in allowed:
                raise InvalidInput(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.n_token_types < 0:
            raise InvalidInput(f"n_token_types must be >= 0, got {self.n_token_types}")
        if not self.norm_eps > 0:
            raise InvalidInput(f"norm_eps must be positive, got {self.norm_eps}")

    @property
    def head_size(self) -> int:
        """Width of one attention head, C / H."""
        return self.n_embd // self.n_head

    @property
    def has_lm_head_matrix(self) -> bool:
        """True when W_U is its own matrix (an lm_head that is not tied to W_E)."""
        return self.lm_head and not self.tied_embeddings

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TransformerConfig:
        """Build from :meth:`to_dict` output; an unknown field is an InvalidInput naming it."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**data)


PRESETS: dict[str, TransformerConfig] = {
    # GPT-3 175B (Brown et al. 2020, table 2.1): d_model 12288, 96 layers, 96 heads, context 2048.
    "gpt3": TransformerConfig(vocab_size=50257, n_ctx=2048, n_embd=12288, n_head=96, n_layer=96),
    # GPT-2 small, 124 M (Radford et al. 2019).
    "gpt2": TransformerConfig(vocab_size=50257, n_ctx=1024, n_embd=768, n_head=12, n_layer=12),
    # all-MiniLM-L6-v2: a 6-layer BERT encoder (no lm_head; its unused pooler is not counted).
    "minilm": TransformerConfig(
        vocab_size=30522, n_ctx=512, n_embd=384, n_head=12, n_layer=6, n_inner=1536, causal=False,
        norm="post", gelu="erf", tied_embeddings=False, n_token_types=2, norm_eps=1e-12, lm_head=False),
    # Our mini word-level GPT, shipped in data/mini/ (trained by data/train_mini.py).
    "mini": TransformerConfig(vocab_size=8192, n_ctx=64, n_embd=128, n_head=4, n_layer=4),
}


# Totals as their authors published them, shown beside our exact counts (which need no rounding).
PUBLISHED_TOTALS: dict[str, str] = {
    "gpt3": "175.0 B (Brown et al. 2020, table 2.1)",
    "gpt2": "124 M (OpenAI's GPT-2 small)",
    "minilm": "22.7 M (the model card, counting the pooler)",
}

def count_params(cfg: TransformerConfig) -> dict[str, int]:
    """Exact number of parameters of ``cfg``, by group, with the total.

    Groups: ``W_E`` (token embedding), ``positions`` (learned table; 0 when sinusoidal),
    ``token_types``, ``attention`` (W_Q, W_K, W_V, W_O and biases), ``MLP``, ``norms``
    (every LayerNorm's gain and bias), ``W_U`` (0 when tied or absent), ``total``.

    Examples
    --------
    >>> count_params(PRESETS["gpt2"])["total"]
    124439808
    >>> count_params(PRESETS["gpt3"])["W_E"]
    617558016
    """
    c, f = cfg.n_embd, cfg.n_inner
    attention = (c * 3 * c + 3 * c) + (c * c + c)          # c_attn [C, 3C] + b, c_proj [C, C] + b
    mlp = (c * f + f) + (f * c + c)                         # c_fc [C, F] + b, c_proj [F, C] + b
    final_norms = 1 if cfg.norm == "pre" else 0             # ln_f (pre-norm) ...
    embedding_norms = 1 if cfg.norm == "post" else 0        # ... or ln_emb (post-norm)
    groups = {
        "W_E": cfg.vocab_size * c,
        "positions": cfg.n_ctx * c if cfg.positions == "learned" else 0,
        "token_types": cfg.n_token_types * c,
        "attention": cfg.n_layer * attention,
        "MLP": cfg.n_layer * mlp,
        "norms": 2 * c * (2 * cfg.n_layer + final_norms + embedding_norms),
        "W_U": c * cfg.vocab_size if cfg.has_lm_head_matrix else 0,
    }
    groups["total"] = sum(groups.values())
    return groups
