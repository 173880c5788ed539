// Training and evaluation of the part-of-speech tagger on Universal Dependencies CoNLL-U files.
// Not needed to tag text (pos.h is); used by `lossgap train-tagger` and the tagger's tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tags/pos.h"

namespace lossgap {

// One sentence of a CoNLL-U file: its syntactic words (multiword-token lines such as "1-2"
// and empty nodes such as "8.1" are skipped) with their gold UPOS and XPOS.
struct UdSentence {
  std::vector<std::string> forms;
  std::vector<std::string> upos;
  std::vector<std::string> xpos;
};

// Reads a CoNLL-U file. Throws InputError naming file:line for a missing file, a word line
// without 10 tab-separated columns, or an empty FORM/UPOS/XPOS.
std::vector<UdSentence> read_conllu(const std::filesystem::path& path);

struct PosAccuracy {
  size_t words = 0;
  size_t upos_correct = 0;
  size_t xpos_correct = 0;
  double upos() const { return words ? static_cast<double>(upos_correct) / words : 0.0; }
  double xpos() const { return words ? static_cast<double>(xpos_correct) / words : 0.0; }
};

// Tags the gold words of each sentence and counts the words whose UPOS (XPOS) is the gold one.
PosAccuracy evaluate_pos(const PosTagger& tagger, std::span<const UdSentence> sentences);

struct PosTrainOptions {
  int epochs = 15;                  // passes over the training sentences (the best one is kept)
  uint64_t seed = 1;                // seeds the shuffle of each pass (std::mt19937_64)
  float prune = 0.5f;               // averaged weights with |w| below this are dropped
  size_t tagdict_min_count = 20;    // a word is looked up, not scored, when seen this often ...
  double tagdict_min_share = 0.97;  // ... with one tag at least this share of the time
  size_t lexicon_min_count = 3;     // words this frequent get an ambiguity class: the tags
  double lexicon_min_share = 0.05;  // they had at least this share of the time
};

struct PosEpoch {
  int epoch = 0;  // 1-based
  PosAccuracy dev;
  size_t features = 0;  // kept after pruning
  size_t weights = 0;
};

struct PosTrainResult {
  PosTagger tagger;  // the averaged, pruned weights of the best epoch on dev
  int best_epoch = 0;
  std::vector<PosEpoch> epochs;
};

// Trains an averaged perceptron (Collins 2002) on `train` and keeps the epoch whose averaged
// model tags `dev` best (UPOS accuracy, then XPOS). Deterministic for a given seed: the same
// inputs give the same model file. Throws InputError when train is empty or epochs < 1.
PosTrainResult train_pos_tagger(std::span<const UdSentence> train,
                                std::span<const UdSentence> dev, const PosTrainOptions& options,
                                const std::function<void(const PosEpoch&)>& on_epoch = {});

}  // namespace lossgap
