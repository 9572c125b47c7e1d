#!/usr/bin/env python3
"""Mutant schemata for the views: every output value of a view becomes a switchable mutant.

Reads src/lifecycle/view_*.cc and views.h; writes, for each view, a copy in which each output
value -- an enum value the view returns or puts in a table, a string it renders -- is wrapped
as CORRAL_MUT(id, original, replacement) (mutant_switch.h), and a manifest, mutants.tsv, with
one line per mutant: id, file, line, original, replacement, note.

What is not mutated, and why:
  - case labels and operands of == and != (inputs, not outputs: the transition-table and
    vocabulary mutants in data_mutants.cc cover what the views are asked);
  - the kAll* lists (the enumerations themselves, not a mapping);
  - "?" (the fallback name after an exhaustive switch).
A mutant on the line right after an exhaustive switch (the `return` the compiler requires
after a switch without default) is marked `after-switch`: no input reaches it, so if it
survives it is reported as equivalent, with that reason.

Replacements: for an enum value, the next and the previous value of the same enum (in
declaration order, views.h), so that each site is swapped with its neighbours; for a string,
the next different string literal of the same file (a swap of two outputs).
"""
import argparse
import os
import re
import sys

# Per view: the enum aliases whose values are outputs, mapped to the enum's name in views.h.
OUTPUT_ENUMS = {
    "view_opennebula.cc": {"L": "LcmState", "LcmState": "LcmState", "OneState": "OneState"},
    "view_nova.cc": {"V": "NovaVmState", "T": "NovaTaskState", "NovaVmState": "NovaVmState",
                     "NovaTaskState": "NovaTaskState"},
    "view_azure.cc": {"AzurePower": "AzurePower", "AzureProvisioning": "AzureProvisioning",
                      "Billing": "Billing", "AP": "AzurePower", "PS": "AzureProvisioning",
                      "B": "Billing", "Pw": "AzurePower", "Pv": "AzureProvisioning"},
    "view_stratuslab.cc": {"SlState": "SlState", "SL": "SlState", "Sl": "SlState"},
}

ENUM_RE = re.compile(r"enum class (\w+)\s*:\s*[\w:]+\s*\{(.*?)\};", re.S)
STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')


def enum_values(views_h):
    out = {}
    for name, body in ENUM_RE.findall(views_h):
        values = re.findall(r"\b(k\w+)\b", body)
        out[name] = values
    return out


def alias_map(text, defaults):
    """The file's own `using X = Enum;` aliases, added to the defaults."""
    aliases = dict(defaults)
    for alias, target in re.findall(r"using (\w+) = (\w+);", text):
        if target in defaults.values():
            aliases[alias] = target
    return aliases


def after_switch_lines(lines):
    """1-based numbers of the first statement line after each switch block closes."""
    marked = set()
    stack = []  # for each open brace: whether its line opened a switch
    pending = False
    for n, line in enumerate(lines, 1):
        code = STRING_RE.sub('""', line.split("//")[0])
        if pending and code.strip():
            marked.add(n)
            pending = False
        for ch in code:
            if ch == "{":
                stack.append("switch (" in code)
            elif ch == "}":
                if stack and stack.pop() and code.strip() == "}":
                    pending = True
    return marked


def schematize(path, views_h_values, next_id, manifest):
    name = os.path.basename(path)
    with open(path) as f:
        text = f.read()
    aliases = alias_map(text, OUTPUT_ENUMS[name])
    token_re = re.compile(r"\b(" + "|".join(sorted(aliases, key=len, reverse=True)) +
                          r")::(k\w+)\b")
    lines = text.split("\n")
    fallback = after_switch_lines(lines)
    strings = [m.group(0) for line in lines if not line.lstrip().startswith("#include")
               for m in STRING_RE.finditer(line.split("//")[0]) if m.group(0) != '"?"']
    distinct = list(dict.fromkeys(strings))
    out_lines = []
    in_all_list = False
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if re.search(r"\bkAll\w+\s*=", line):
            in_all_list = not stripped.endswith(";") or "{" in line and "};" not in line
            out_lines.append(line)
            if not in_all_list:
                continue
            continue
        if in_all_list:
            if "};" in line or stripped.endswith("}();"):
                in_all_list = False
            out_lines.append(line)
            continue
        if (stripped.startswith("case ") or stripped.startswith("#") or
                stripped.startswith("//") or stripped.startswith("using ") or
                stripped.startswith("static_assert")):
            out_lines.append(line)
            continue
        # A table of outputs is mutated in place: it can no longer be a constant expression.
        line = re.sub(r"\bconstexpr(\s+[\w:<>]+\s+k[A-Z]\w*\s*(\[|=))", r"const\1", line)
        code, comment = (line.split("//", 1) + [None])[:2] if "//" in line else (line, None)
        if comment is not None and '"' in code and code.count('"') % 2 == 1:
            code, comment = line, None  # a "//" inside a string literal
        note = "after-switch" if n in fallback else ""
        pieces = []
        pos = 0
        sites = []
        for m in token_re.finditer(code):
            before = code[max(0, m.start() - 4):m.start()]
            after = code[m.end():m.end() + 4]
            if "==" in before or "!=" in before or "==" in after or "!=" in after:
                continue
            sites.append((m.start(), m.end(), "enum", m))
        for m in STRING_RE.finditer(code):
            if m.group(0) == '"?"':
                continue
            sites.append((m.start(), m.end(), "string", m))
        sites.sort(key=lambda s: s[0])
        for start, end, kind, m in sites:
            original = m.group(0)
            replacements = []
            if kind == "enum":
                alias, value = m.group(1), m.group(2)
                values = views_h_values[aliases[alias]]
                if value not in values:
                    continue
                i = values.index(value)
                for j in (i + 1, i - 1):
                    other = values[j % len(values)]
                    if other != value and other not in [r.split("::")[1] for r in replacements]:
                        replacements.append(alias + "::" + other)
            else:
                i = distinct.index(original)
                other = distinct[(i + 1) % len(distinct)]
                if other != original:
                    replacements.append(other)
            if not replacements:
                continue
            wrapped = original
            for replacement in replacements:
                wrapped = "CORRAL_MUT(%d, %s, %s)" % (next_id, wrapped, replacement)
                manifest.append((next_id, name, n, original, replacement, note))
                next_id += 1
            pieces.append(code[pos:start])
            pieces.append(wrapped)
            pos = end
        pieces.append(code[pos:])
        new_code = "".join(pieces)
        out_lines.append(new_code + ("//" + comment if comment is not None else ""))
    result = "\n".join(out_lines)
    result = result.replace('#include "lifecycle/views.h"',
                            '#include "lifecycle/views.h"\n#include "lifecycle/mutate/mutant_switch.h"',
                            1)
    return result, next_id


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views-h", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("views", nargs="+")
    args = parser.parse_args()
    with open(args.views_h) as f:
        values = enum_values(f.read())
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    next_id = 1
    for path in args.views:
        text, next_id = schematize(path, values, next_id, manifest)
        target = os.path.join(args.out, os.path.basename(path))
        with open(target + ".tmp", "w") as f:
            f.write(text)
        os.replace(target + ".tmp", target)
    with open(os.path.join(args.out, "mutants.tsv"), "w") as f:
        for row in manifest:
            f.write("\t".join(str(x).replace("\t", " ") for x in row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
