"""Demographics from any OpenAI-compatible LLM, with strict structured outputs, a cache and cost accounting."""

from .answer import ArtistAnswer, response_format, schema_hash, strict_json_schema
from .client import LLMAuthError, LLMClient, LLMQuotaError, LLMSettings
from .costs import DEFAULT_PRICES, RunCost, call_cost, estimate_tokens
from .extract import LLM_TABLE, LLMExtractSummary, extract_llm
from .prompts import PROMPT_VERSION, page_input_text, quote_in_text
from .replies import read_reply

__all__ = [
    "ArtistAnswer", "DEFAULT_PRICES", "LLMAuthError", "LLMClient", "LLMExtractSummary", "LLMQuotaError",
    "LLMSettings", "LLM_TABLE", "PROMPT_VERSION", "RunCost", "call_cost", "estimate_tokens", "extract_llm",
    "page_input_text", "quote_in_text", "read_reply", "response_format", "schema_hash", "strict_json_schema",
]
