#!/usr/bin/env python3
"""gen_texts.py - the test texts of the BPE tokenizer comparison, one JSON string per line on
stdout, deterministic (a fixed seed, no dependence on the Python hash seed).

  every GSM8K test question and answer and every MATH500 problem, solution and answer from
  DATA_DIR (default /work/shared/data; a missing source is skipped with a note on stderr),
  then generated texts: LaTeX, code, runs of spaces/tabs/newlines (\\r\\n, leading and trailing
  spaces), long digit strings, CJK, Arabic, Hindi with combining marks, emoji with ZWJ and skin
  tones, contractions in mixed case (and U+017F, which folds to s), decomposed accents and
  Hangul jamo (NFC), special tokens inside text, and random Unicode (assigned code points of
  this Python's Unicode version, no surrogates, no NUL).

Usage: gen_texts.py [--count N] [DATA_DIR] > texts.jsonl   (N generated texts, default 2500)
"""
import json
import os
import random
import sys
import unicodedata

SPECIALS = ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|begin_of_text|>', '<|end_of_text|>',
            '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<think>', '</think>',
            '<tool_call>', '<|reserved_special_token_5|>', '<|im_start', '<|', '|>']
WORDS = ['the', 'The', 'THE', 'hello', 'world', 'naïve', 'café', 'Straße', 'über', 'İstanbul',
         'ǅemal', 'x', 'sqrt', 'frac', 'def', 'return', 'self', '42', '3.14159', '1,000,000',
         'don', 'can', 'I', 'we', 'they', 'O', 'Ölçü', 'ﬁnal', 'Ⅻ', '½', '²', '٣', '१२३',
         'حب', 'नमस्ते', '中文', '日本語', 'ひらがな', 'カタカナ', '한국어', 'Ελληνικά', 'русский']
PUNCT = list('.,;:!?()[]{}<>/\\|@#$%^&*-_+=~`"\'') + ['...', '--', '—', '–', '«', '»', '“', '”',
                                                      '’', '¿', '¡', '€', '£', '¥', '§', '°']
SPACES = [' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', ' \n', '\n ', '\u00a0', '\u3000',
          '\u2009', '\u200b', '\x0b', '\x0c', '\x85', '\u2028', '\x1c', '\x1f', '\u180e']
CONTRACTIONS = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'m", "'M",
                "'ll", "'LL", "'Ll", "'d", "'D", "'ſ", "'x", "'", "''", "'st", "'LLama"]
EMOJI = ['😀', '👍', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '👩🏿‍💻', '❤️', '🇫🇷', '🧑‍🤝‍🧑', '☺︎', '1️⃣']
LATEX = [r'\frac{a}{b}', r'$\sqrt{x^2+y^2}$', r'\begin{align*} x &= 1 \\ y &= 2 \end{align*}',
         r'\boxed{\dfrac{3}{4}}', r'$$\sum_{i=1}^{n} i = \frac{n(n+1)}{2}$$', r'\left( 3, \frac{\pi}{2} \right)',
         r'\mathbf{v} \cdot \mathbf{w}', r'x_{n+1} = x_n - \frac{f(x_n)}{f\'(x_n)}']
CODE = ['def f(x):\n    return x * 2\n', 'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}\n',
        'if __name__ == "__main__":\n    main()', '#include <stdio.h>\nint main(void) { return 0; }',
        'const {Tokenizer} = require("tokenizers");', "x = {'a': 1, \"b\": [1, 2, 3]}  # comment",
        '    \n\n    pass\n\t\t\n', 'SELECT * FROM t WHERE id = 42;\r\n', '<div class="x">&amp;</div>']


def data_texts(data_dir):
    out = []
    for name, fields in (('gsm8k/test.jsonl', ('question', 'answer')),
                         ('math500/test.jsonl', ('problem', 'solution', 'answer'))):
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            sys.stderr.write('gen_texts: %s absent, skipping that source\n' % path)
            continue
        with open(path, encoding='utf-8') as f:
            for line in f:
                row = json.loads(line)
                out.extend(str(row[k]) for k in fields if k in row and str(row[k]))
    return out


def assigned_code_points():
    cps = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        if unicodedata.category(chr(cp)) in ('Cn', 'Cs', 'Co'):
            continue
        cps.append(cp)
    return cps


def decomposed(rng):
    base = rng.choice(['e', 'a', 'o', 'u', 'n', 'c', 'A', 'E', 'I', 'ω', 'α', 'и', 'ᄀ'])
    marks = ''.join(rng.choice(['\u0301', '\u0300', '\u0308', '\u0303', '\u0327', '\u0323',
                                '\u031b', '\u0345', '\u0313', '\u0306', '\u1161', '\u11a8'])
                    for _ in range(rng.randint(1, 3)))
    return base + marks


def piece(rng, cps):
    kind = rng.randrange(14)
    if kind == 0:
        return rng.choice(WORDS)
    if kind == 1:
        return rng.choice(PUNCT)
    if kind == 2:
        return rng.choice(SPACES) * rng.randint(1, 4)
    if kind == 3:
        return rng.choice(CONTRACTIONS)
    if kind == 4:
        return ''.join(rng.choice('0123456789') for _ in range(rng.randint(1, 25)))
    if kind == 5:
        return rng.choice(EMOJI)
    if kind == 6:
        return rng.choice(LATEX)
    if kind == 7:
        return rng.choice(CODE)
    if kind == 8:
        return decomposed(rng)
    if kind == 9:
        return rng.choice(SPECIALS)
    if kind == 10:
        return unicodedata.normalize(rng.choice(['NFD', 'NFKD']), rng.choice(WORDS))
    if kind == 11:
        return ''.join(chr(rng.choice(cps)) for _ in range(rng.randint(1, 8)))
    if kind == 12:
        return ''.join(chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(1, 12)))
    return rng.choice(WORDS) + rng.choice(CONTRACTIONS)


def generated(count):
    rng = random.Random(20240601)
    cps = assigned_code_points()
    out = ['', ' ', '  ', '\n', '\r\n', ' \r\n ', '\t\t', 'a  b', 'a \n b', 'x   ', '   x',
           "I'M HERE, YOU'LL SEE, SHE'S", "don'T we've THEY'RE", "'ſ 'ſt 'ſa", 'ſ' * 5,
           '1' * 100, '12345678901234567890', '٣٤٥٦٧', '१२३४', '¹²³⁴', 'Ⅰ Ⅱ Ⅲ',
           'e\u0301 cafe\u0301 n\u0303', '\u1100\u1161\u11a8', '\u0958\u0959', 'A\u030a\u0301',
           '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
           '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>',
           ' <|endoftext|> ', '<|endoftext|><|endoftext|>', '<|im_end', 'x' * 3000,
           ' ' * 500 + 'a', '\n' * 300, 'ab' * 700, '中' * 400]
    while len(out) < count:
        n = rng.randint(1, 12)
        out.append(''.join(piece(rng, cps) for _ in range(n)))
    return out


def main():
    args = sys.argv[1:]
    count = 2500
    if len(args) >= 2 and args[0] == '--count':
        count = int(args[1])
        args = args[2:]
    data_dir = args[0] if args else '/work/shared/data'
    texts = [t for t in data_texts(data_dir) + generated(count) if '\0' not in t]
    for t in texts:
        sys.stdout.write(json.dumps(t) + '\n')
    sys.stderr.write('gen_texts: %d texts\n' % len(texts))


if __name__ == '__main__':
    main()
