"""tb_check.py - a run folder's TensorBoard event file, read by TensorBoard, against its
metrics.jsonl and samples.jsonl (tests/test_tensorboard.sh).

Usage: tb_check.py RUN_DIR [--after N] [--subsets] [--records]

- The records: every one framed whole, both masked CRC-32Cs checked with TensorBoard's own
  crc32c (tensorboard.compat.tensorflow_stub), the file read to its last byte; then
  TensorBoard's EventFileLoader (which stops silently at a bad record) must give as many events,
  and the first is file_version "brain.Event:2".
- The scalars: every number of every metrics.jsonl row is a scalar tagged with its key at the
  row's step, equal as float32 (null in JSON: a non-finite scalar); no (tag, step) twice; none
  that metrics.jsonl lacks. EventAccumulator (TensorBoard's scalar loading) sees the same tags.
- The texts: each samples.jsonl row of a step is a text "samples/<i>" of that step (i its index
  in the step), a DT_STRING scalar tensor under the text plugin, holding the prompt and the
  response (as Markdown code) and the reward.
- --after N: the event file began after step N (log.tensorboard turned on at a resume): the
  rows and samples of steps up to N have no events.
- --subsets: some row has an "eval_accuracy/<label>" member.
- --records: only the records and the loader (a file cut back by a forced resume).
Prints one line per failure and exits 1 when any.
"""
import json
import math
import os
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

EVENTS = "events.out.tfevents.attnrl"
fails = []


def fail(msg):
    fails.append(msg)
    print("FAIL: " + msg)


def records(path):
    """The records' data, each CRC checked; the whole file must be whole records."""
    data = open(path, "rb").read()
    at, out = 0, []
    while at < len(data):
        if len(data) - at < 16:
            fail(f"{path}: {len(data) - at} bytes at {at} are no whole record")
            break
        head = data[at:at + 8]
        (n,) = struct.unpack("<Q", head)
        (hcrc,) = struct.unpack("<I", data[at + 8:at + 12])
        if hcrc != masked_crc32c(head):
            fail(f"{path}: header CRC of the record at {at}")
            break
        body = data[at + 12:at + 12 + n]
        tail = data[at + 12 + n:at + 16 + n]
        if len(body) < n or len(tail) < 4 or struct.unpack("<I", tail)[0] != masked_crc32c(body):
            fail(f"{path}: data CRC of the record at {at}")
            break
        out.append(body)
        at += 16 + n
    return out


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def same_f32(want, got):
    if want is None:
        return not math.isfinite(got)
    return f32(float(want)) == got or (math.isnan(f32(float(want))) and math.isnan(got))


def markdown_code(text):
    return "    " + text.replace("\n", "\n    ")


def check_scalars(run, scalars, after):
    want = {}
    for line in open(os.path.join(run, "metrics.jsonl")):
        row = json.loads(line)
        step = row["step"]
        if step <= after:
            continue
        for k, v in row.items():
            if k == "step" or not (v is None or isinstance(v, (int, float))):
                continue
            if (k, step) in want:
                fail(f"metrics.jsonl: {k} of step {step} twice")
            want[(k, step)] = v
    for key, vals in scalars.items():
        if len(vals) > 1:
            fail(f"scalar {key[0]} of step {key[1]} written {len(vals)} times")
        if key not in want:
            fail(f"scalar {key[0]} of step {key[1]} is not in metrics.jsonl")
    for key, v in want.items():
        if key not in scalars:
            fail(f"{key[0]} of step {key[1]} in metrics.jsonl has no scalar")
        elif not same_f32(v, scalars[key][0]):
            fail(f"{key[0]} of step {key[1]}: scalar {scalars[key][0]!r}, metrics.jsonl {v!r}")
    return want


def check_texts(run, texts, after):
    seen = {}
    n = 0
    for line in open(os.path.join(run, "samples.jsonl")):
        row = json.loads(line)
        if row["step"] <= after:
            continue
        i = seen.get(row["step"], 0)
        seen[row["step"]] = i + 1
        key = (f"samples/{i}", row["step"])
        n += 1
        if key not in texts:
            fail(f"sample {i} of step {row['step']} has no text")
            continue
        if len(texts[key]) > 1:
            fail(f"text {key} written {len(texts[key])} times")
        text = texts[key][0]
        for part in (markdown_code(row["prompt"]), markdown_code(row["response"]),
                     "**reward** %.4g" % row["reward"]):
            if part not in text:
                fail(f"text {key} lacks {part[:60]!r}")
    if len(texts) != n:
        fail(f"{len(texts)} texts for {n} samples.jsonl rows")
    return n


def main():
    run = sys.argv[1]
    after = int(sys.argv[sys.argv.index("--after") + 1]) if "--after" in sys.argv else -1
    path = os.path.join(run, EVENTS)
    raw = records(path)
    events = [event_pb2.Event.FromString(b) for b in raw]
    loaded = list(event_file_loader.EventFileLoader(path).Load())
    if len(loaded) != len(events):
        fail(f"TensorBoard's loader read {len(loaded)} events of {len(events)}")
    if not events or events[0].file_version != "brain.Event:2":
        fail("the first event is not file_version brain.Event:2")
    if "--records" in sys.argv:
        print(f"tb_check: {len(events)} events; {len(fails)} failed")
        return 1 if fails else 0
    scalars, texts = {}, {}
    for e in events[1:]:
        for v in e.summary.value:
            key = (v.tag, e.step)
            if v.HasField("simple_value"):
                scalars.setdefault(key, []).append(v.simple_value)
            elif v.metadata.plugin_data.plugin_name == "text":
                t = v.tensor
                if t.dtype != 7 or len(t.tensor_shape.dim) or len(t.string_val) != 1:
                    fail(f"text {key}: not a DT_STRING scalar")
                    continue
                texts.setdefault(key, []).append(t.string_val[0].decode())
            else:
                fail(f"value {key}: neither a scalar nor a text")
    want = check_scalars(run, scalars, after)
    n_texts = check_texts(run, texts, after)
    acc = event_accumulator.EventAccumulator(run, size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    if tags != {k for k, _ in want}:
        fail(f"EventAccumulator's scalar tags differ: {sorted(tags ^ {k for k, _ in want})}")
    if "--subsets" in sys.argv and not any(k.startswith("eval_accuracy/") for k, _ in want):
        fail("no eval_accuracy/<subset> member")
    if n_texts == 0:
        fail("no samples")
    print(f"tb_check: {len(events)} events, {len(want)} scalars, {n_texts} texts; "
          f"{len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
