"""oracle.py - Hugging Face's tokenizers core (PyPI tokenizers, the Python binding of the Rust
crate) as the oracle of attnrl's BPE tokenizer. Run with the project environment's python
(.venv/bin/python, made by scripts/install-deps.sh).

  oracle.py encode TOKENIZER TEXTS.jsonl [DECODE_IDS.txt [SPLITS.txt]]
       the ids of each text (add_special_tokens=False) on stdout; DECODE_IDS.txt gets the id
       lines to decode: every encoding, a slice of each, and 300 lines of random ids;
       SPLITS.txt the pre-tokens of each raw text by the file's Split regex alone (a
       WordLevel tokenizer with that pre-tokenizer: one token per pre-token), as the code
       point offsets where each ends
  oracle.py decode TOKENIZER IDS.txt OURS.jsonl
       compares HF's decode(ids, skip_special_tokens=True) with attnrl's (a JSON string per
       line). HF's decode replaces invalid UTF-8 with U+FFFD (maximal subparts) and attnrl's
       --json output with one U+FFFD per byte, so a line whose HF text holds U+FFFD and
       differs is counted as "lossy" and not compared; every other line must be equal.
  oracle.py bench TOKENIZER TEXTS.jsonl    encode MB/s: one text at a time, and in batches of
                                           1000 (threads: RAYON_NUM_THREADS)
  oracle.py version                        the tokenizers version
"""
import json
import os
import sys
import time

from tokenizers import Tokenizer


def lines(path):
    with open(path, encoding='utf-8', newline='') as f:
        ls = f.read().split('\n')
    if ls and ls[-1] == '':
        ls.pop()
    return ls


def ids_of(line):
    return [int(x) for x in line.split()]


def encode(tok_path, texts_path, decode_ids_path=None, splits_path=None):
    tok = Tokenizer.from_file(tok_path)
    out = [tok.encode(json.loads(line), add_special_tokens=False).ids for line in lines(texts_path)]
    sys.stdout.write(''.join(' '.join(map(str, ids)) + '\n' for ids in out))
    if decode_ids_path:
        with open(decode_ids_path, 'w', encoding='utf-8') as f:
            f.write(id_lines(out, tok.get_vocab_size(with_added_tokens=True)))
    if splits_path:
        with open(splits_path, 'w', encoding='utf-8') as f:
            f.write(splits(tok_path, texts_path))


def splits(tok_path, texts_path):
    with open(tok_path, encoding='utf-8') as f:
        j = json.load(f)
    pre = j['pre_tokenizer']
    split = (pre.get('pretokenizers') or [pre])[0]
    tok = Tokenizer.from_str(json.dumps({
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': [],
        'normalizer': None, 'pre_tokenizer': split, 'post_processor': None, 'decoder': None,
        'model': {'type': 'WordLevel', 'vocab': {'[UNK]': 0}, 'unk_token': '[UNK]'},
    }))
    out = []
    for line in lines(texts_path):
        e = tok.encode(json.loads(line), add_special_tokens=False)
        out.append(' '.join(str(o[1]) for o in e.offsets) + '\n')
    return ''.join(out)


def id_lines(encodings, V):
    seed = 12345

    def rnd(n):
        nonlocal seed
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed % n

    out = []
    for ids in encodings:
        out.append(ids)
        if len(ids) > 1:
            a = rnd(len(ids))
            b = a + 1 + rnd(len(ids) - a)
            out.append(ids[a:b])
    for _ in range(300):
        out.append([rnd(V) for _ in range(1 + rnd(20))])
    return ''.join(' '.join(map(str, ids)) + '\n' for ids in out)


def decode(tok_path, ids_path, ours_path):
    tok = Tokenizer.from_file(tok_path)
    idl, ours = lines(ids_path), lines(ours_path)
    if len(idl) != len(ours):
        print(f'decode: {len(idl)} id lines but {len(ours)} attnrl lines')
        return 1
    equal = lossy = bad = 0
    for i, (ids, our) in enumerate(zip(idl, ours)):
        ref = tok.decode(ids_of(ids), skip_special_tokens=True)
        got = json.loads(our)
        if ref == got:
            equal += 1
        elif '\ufffd' in ref:
            lossy += 1
        else:
            if bad < 5:
                print(f'decode mismatch, line {i + 1}: ids [{ids}]\n'
                      f'  hf     {json.dumps(ref)}\n  attnrl {json.dumps(got)}')
            bad += 1
    print(f'decode: {equal} equal, {lossy} lossy (invalid UTF-8, not compared), {bad} mismatches')
    return 1 if bad else 0


def bench(tok_path, texts_path):
    texts = [json.loads(line) for line in lines(texts_path)]
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(tok_path)
    load = time.perf_counter() - t0
    nbytes = sum(len(s.encode('utf-8')) for s in texts)

    def report(how, secs):
        print(f'hf tokenizers ({how}): load {load:.3f} s; encoded {nbytes} bytes in {secs:.3f} s '
              f'({nbytes / secs / 1e6:.2f} MB/s)')

    t0 = time.perf_counter()
    for s in texts:
        tok.encode(s, add_special_tokens=False)
    report('encode, one text at a time', time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(0, len(texts), 1000):
        tok.encode_batch(texts[i:i + 1000], add_special_tokens=False)
    report(f"encode_batch of 1000, RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'unset')}",
           time.perf_counter() - t0)


def version():
    import tokenizers
    print(tokenizers.__version__)


def main():
    cmds = {'encode': encode, 'decode': decode, 'bench': bench, 'version': version}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print('usage: oracle.py encode|decode|bench|version ...', file=sys.stderr)
        return 2
    try:
        return cmds[sys.argv[1]](*sys.argv[2:]) or 0
    except Exception as e:  # one line, as the shell test prints it
        print(f'oracle.py: {type(e).__name__}: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
