// oracle.js - Hugging Face's tokenizers core (npm tokenizers, the node binding of the Rust
// crate) as the oracle of attnrl's BPE tokenizer. Run with NODE_PATH=.cache/tokenizers/node_modules.
//
//   node oracle.js encode TOKENIZER TEXTS.jsonl [DECODE_IDS.txt [SPLITS.txt]]
//        the ids of each text (addSpecialTokens: false) on stdout; DECODE_IDS.txt gets the id
//        lines to decode: every encoding, a slice of each, and 300 lines of random ids;
//        SPLITS.txt the pre-tokens of each raw text by the file's Split regex alone (a
//        WordLevel tokenizer with that pre-tokenizer: one token per pre-token), as the code
//        point offsets where each ends
//   node oracle.js decode TOKENIZER IDS.txt OURS.jsonl
//        compares HF's decode(ids, skipSpecialTokens = true) with attnrl's (a JSON string per
//        line). HF's decode replaces invalid UTF-8 with U+FFFD (maximal subparts) and attnrl's
//        --json output with one U+FFFD per byte, so a line whose HF text holds U+FFFD and
//        differs is counted as "lossy" and not compared; every other line must be equal.
//   node oracle.js bench TOKENIZER TEXTS.jsonl       encode MB/s: one text at a time, and in
//                                                    batches of 1000 (threads: RAYON_NUM_THREADS)
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

function lines(path) {
	const s = fs.readFileSync(path, 'utf8');
	const l = s.split('\n');
	if (l.length && l[l.length - 1] === '') l.pop();
	return l;
}

function ids_of(line) {
	return line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number);
}

async function encode(tok_path, texts_path, decode_ids_path, splits_path) {
	const tok = Tokenizer.fromFile(tok_path);
	const out = [];
	for (const line of lines(texts_path)) {
		const e = await tok.encode(JSON.parse(line), null, { addSpecialTokens: false });
		out.push(e.getIds());
	}
	process.stdout.write(out.map((ids) => ids.join(' ')).join('\n') + '\n');
	if (decode_ids_path)
		fs.writeFileSync(decode_ids_path, id_lines(out, tok.getVocabSize(true)));
	if (splits_path)
		fs.writeFileSync(splits_path, await splits(tok_path, texts_path));
}

async function splits(tok_path, texts_path) {
	const j = JSON.parse(fs.readFileSync(tok_path, 'utf8'));
	const split = (j.pre_tokenizer.pretokenizers || [j.pre_tokenizer])[0];
	const tok = Tokenizer.fromString(JSON.stringify({
		version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
		pre_tokenizer: split, post_processor: null, decoder: null,
		model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
	}));
	const out = [];
	for (const line of lines(texts_path)) {
		const e = await tok.encode(JSON.parse(line), null, { addSpecialTokens: false });
		out.push(e.getOffsets().map((o) => o[1]).join(' '));
	}
	return out.join('\n') + '\n';
}

function id_lines(encodings, V) {
	let seed = 12345;
	const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
	const out = [];
	for (const ids of encodings) {
		out.push(ids.join(' '));
		if (ids.length > 1) {
			const a = rnd(ids.length), b = a + 1 + rnd(ids.length - a);
			out.push(ids.slice(a, b).join(' '));
		}
	}
	for (let i = 0; i < 300; i++) {
		const ids = [];
		for (let k = 1 + rnd(20); k > 0; k--) ids.push(rnd(V));
		out.push(ids.join(' '));
	}
	return out.join('\n') + '\n';
}

async function decode(tok_path, ids_path, ours_path) {
	const tok = Tokenizer.fromFile(tok_path);
	const idl = lines(ids_path), ours = lines(ours_path);
	let equal = 0, lossy = 0, bad = 0;
	if (idl.length !== ours.length) {
		console.log(`decode: ${idl.length} id lines but ${ours.length} attnrl lines`);
		process.exit(1);
	}
	for (let i = 0; i < idl.length; i++) {
		const ref = await tok.decode(ids_of(idl[i]), true);
		const got = JSON.parse(ours[i]);
		if (ref === got) equal++;
		else if (ref.includes('\ufffd')) lossy++;
		else if (bad++ < 5)
			console.log(`decode mismatch, line ${i + 1}: ids [${idl[i]}]\n  hf     ${JSON.stringify(ref)}\n  attnrl ${JSON.stringify(got)}`);
	}
	console.log(`decode: ${equal} equal, ${lossy} lossy (invalid UTF-8, not compared), ${bad} mismatches`);
	process.exit(bad ? 1 : 0);
}

async function bench(tok_path, texts_path) {
	const texts = lines(texts_path).map((l) => JSON.parse(l));
	let t0 = process.hrtime.bigint();
	const tok = Tokenizer.fromFile(tok_path);
	const load = Number(process.hrtime.bigint() - t0) / 1e9;
	let bytes = 0;
	for (const s of texts) bytes += Buffer.byteLength(s, 'utf8');
	const opts = { addSpecialTokens: false };
	const report = (how, secs) => console.log(`hf tokenizers (${how}): load ${load.toFixed(3)} s; encoded ${bytes} bytes in ${secs.toFixed(3)} s (${(bytes / secs / 1e6).toFixed(2)} MB/s)`);
	t0 = process.hrtime.bigint();
	for (const s of texts) await tok.encode(s, null, opts);
	report('encode, one text at a time', Number(process.hrtime.bigint() - t0) / 1e9);
	t0 = process.hrtime.bigint();
	for (let i = 0; i < texts.length; i += 1000) await tok.encodeBatch(texts.slice(i, i + 1000), opts);
	report(`encodeBatch of 1000, RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS || 'unset'}`,
		Number(process.hrtime.bigint() - t0) / 1e9);
}

const [cmd, ...args] = process.argv.slice(2);
const cmds = { encode, decode, bench };
if (!cmds[cmd]) {
	console.error('usage: node oracle.js encode|decode|bench ...');
	process.exit(2);
}
Promise.resolve(cmds[cmd](...args)).catch((e) => { console.error(`oracle.js: ${e}`); process.exit(1); });
