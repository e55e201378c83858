"""Label and field selectors as the API server parses and matches them (`=`, `!=`, `in`, `notin`, exists)."""

from __future__ import annotations

from typing import Any


def field_value(obj: dict[str, Any], path: str) -> str | None:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return None if value is None else str(value)


def parse_fields(text: str) -> list[tuple[str, str, str]]:
    rules = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "!=" in part:
            name, value = part.split("!=", 1)
            rules.append((name.strip(), "!=", value.strip()))
        else:
            name, value = part.replace("==", "=").split("=", 1)
            rules.append((name.strip(), "=", value.strip()))
    return rules


def field_matches(obj: dict[str, Any], rule: tuple[str, str, str]) -> bool:
    name, op, value = rule
    actual = field_value(obj, name) or ""
    return actual == value if op == "=" else actual != value


def parse_labels(text: str) -> list[tuple[str, str, frozenset[str]]]:
    rules: list[tuple[str, str, frozenset[str]]] = []
    parts, depth, current = [], 0, ""
    for ch in text:  # split on commas outside parentheses
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in filter(None, (p.strip() for p in parts)):
        for word, op in ((" notin ", "notin"), (" in ", "in")):
            if word in part:
                key, values = part.split(word, 1)
                rules.append((key.strip(), op, frozenset(v.strip() for v in values.strip(" ()").split(","))))
                break
        else:
            if "!=" in part:
                key, value = part.split("!=", 1)
                rules.append((key.strip(), "!=", frozenset([value.strip()])))
            elif "=" in part:
                key, value = part.replace("==", "=").split("=", 1)
                rules.append((key.strip(), "=", frozenset([value.strip()])))
            elif part.startswith("!"):
                rules.append((part[1:].strip(), "!exists", frozenset()))
            else:
                rules.append((part, "exists", frozenset()))
    return rules


def label_matches(obj: dict[str, Any], rule: tuple[str, str, frozenset[str]]) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    key, op, values = rule
    if op == "exists":
        return key in labels
    if op == "!exists":
        return key not in labels
    if op in ("=", "in"):
        return labels.get(key) in values
    return labels.get(key) not in values  # != and notin (a missing label matches)
