// Averaged-perceptron training of the part-of-speech tagger (Collins 2002, "Discriminative
// Training Methods for Hidden Markov Models"; the averaging as in Daumé's lazy update:
// each weight keeps its running total and the step of its last change), and CoNLL-U reading.
#include "tags/pos_train.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <unordered_map>

#include "core/error.h"
#include "tags/pos_features.h"

namespace lossgap {

struct PosTaggerBuilder {
  static PosTagger make() { return PosTagger(); }
  static auto& tags(PosTagger& t) { return t.tags_; }
  static auto& tagdict(PosTagger& t) { return t.tagdict_; }
  static auto& lexicon(PosTagger& t) { return t.lexicon_; }
  static auto& index(PosTagger& t) { return t.index_; }
  static auto& names(PosTagger& t) { return t.feature_names_; }
  static auto& offsets(PosTagger& t) { return t.offsets_; }
  static auto& classes(PosTagger& t) { return t.classes_; }
  static auto& weights(PosTagger& t) { return t.weights_; }
  static void finish(PosTagger& t) { t.finish(); }
  static const auto& keys(const PosTagger& t) { return t.tag_keys_; }
};

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> cols;
  size_t a = 0;
  for (;;) {
    size_t b = line.find('\t', a);
    cols.push_back(line.substr(a, b == std::string_view::npos ? std::string_view::npos : b - a));
    if (b == std::string_view::npos) break;
    a = b + 1;
  }
  return cols;
}

// The value model files hold for a weight (see weight_from_hundredths).
float round_weight(double w) { return weight_from_hundredths(std::llround(w * 100.0)); }

struct Entry {
  uint16_t cls;
  float w;
  double total;   // sum of w over the steps before `stamp`
  int64_t stamp;  // step of the last change of w
};

class Perceptron {
 public:
  explicit Perceptron(size_t n_tags) : scores_(n_tags) {}

  uint16_t predict(const std::vector<pos_detail::Feature>& feats) {
    std::fill(scores_.begin(), scores_.end(), 0.0);
    for (const auto& f : feats) {
      auto it = index_.find(f.hash);
      if (it == index_.end()) continue;
      for (const Entry& e : rows_[it->second]) scores_[e.cls] += e.w;
    }
    uint16_t best = 0;
    for (uint16_t c = 1; c < scores_.size(); ++c) {
      if (scores_[c] > scores_[best]) best = c;
    }
    return best;
  }

  // One training step: every step counts for the average, a mistake moves the weights.
  void step(const std::vector<pos_detail::Feature>& feats, uint16_t gold, uint16_t guess) {
    ++t_;
    if (gold == guess) return;
    for (const auto& f : feats) {
      auto [it, added] = index_.emplace(f.hash, static_cast<uint32_t>(rows_.size()));
      if (added) {
        rows_.emplace_back();
        names_.push_back(pos_detail::feature_name(f));
      }
      std::vector<Entry>& row = rows_[it->second];
      change(row, gold, 1.0f);
      change(row, guess, -1.0f);
    }
  }

  // Fills the tagger's weights with the averages, dropping |average| < prune.
  void snapshot(PosTagger& t, float prune) const {
    auto& index = PosTaggerBuilder::index(t);
    auto& names = PosTaggerBuilder::names(t);
    auto& offsets = PosTaggerBuilder::offsets(t);
    auto& classes = PosTaggerBuilder::classes(t);
    auto& weights = PosTaggerBuilder::weights(t);
    index.clear();
    names.clear();
    offsets.assign(1, 0);
    classes.clear();
    weights.clear();
    std::vector<std::pair<uint16_t, float>> kept;
    for (size_t k = 0; k < rows_.size(); ++k) {
      kept.clear();
      for (const Entry& e : rows_[k]) {
        double avg = (e.total + static_cast<double>(t_ - e.stamp) * e.w) / static_cast<double>(t_);
        float w = round_weight(avg);
        if (std::fabs(w) >= prune) kept.emplace_back(e.cls, w);
      }
      if (kept.empty()) continue;
      std::sort(kept.begin(), kept.end());
      index.emplace(pos_detail::fnv1a64(names_[k]), static_cast<uint32_t>(names.size()));
      names.push_back(names_[k]);
      for (auto [c, w] : kept) {
        classes.push_back(c);
        weights.push_back(w);
      }
      offsets.push_back(static_cast<uint32_t>(classes.size()));
    }
    PosTaggerBuilder::finish(t);  // the fast decoder's tables follow the new weights
  }

 private:
  void change(std::vector<Entry>& row, uint16_t cls, float delta) {
    auto it = std::find_if(row.begin(), row.end(), [&](const Entry& e) { return e.cls == cls; });
    if (it == row.end()) {
      row.push_back({cls, 0.0f, 0.0, t_});
      it = row.end() - 1;
    }
    it->total += static_cast<double>(t_ - it->stamp) * it->w;
    it->stamp = t_;
    it->w += delta;
  }

  std::vector<double> scores_;  // [n_tags]
  std::unordered_map<uint64_t, uint32_t> index_;
  std::vector<std::vector<Entry>> rows_;  // [n_features][classes touched]
  std::vector<std::string> names_;        // [n_features]
  int64_t t_ = 0;
};

}  // namespace

std::vector<UdSentence> read_conllu(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the CoNLL-U file");
  std::vector<UdSentence> out;
  UdSentence cur;
  std::string line;
  size_t line_no = 0;
  auto flush = [&] {
    if (!cur.forms.empty()) out.push_back(std::move(cur));
    cur = UdSentence{};
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    std::vector<std::string_view> cols = split_tabs(line);
    std::string where = path.string() + ":" + std::to_string(line_no);
    if (cols.size() != 10) {
      throw InputError(where, "expected 10 tab-separated columns, got " +
                                  std::to_string(cols.size()));
    }
    if (cols[0].find_first_of("-.") != std::string_view::npos) continue;  // "1-2", "8.1"
    if (cols[1].empty() || cols[3].empty() || cols[4].empty()) {
      throw InputError(where, "expected non-empty FORM, UPOS and XPOS");
    }
    cur.forms.emplace_back(cols[1]);
    cur.upos.emplace_back(cols[3]);
    cur.xpos.emplace_back(cols[4]);
  }
  flush();
  return out;
}

PosAccuracy evaluate_pos(const PosTagger& tagger, std::span<const UdSentence> sentences) {
  PosAccuracy acc;
  for (const UdSentence& s : sentences) {
    std::vector<uint16_t> tags = tagger.tag_words(std::span<const std::string>(s.forms));
    for (size_t i = 0; i < tags.size(); ++i) {
      ++acc.words;
      acc.upos_correct += tagger.upos(tags[i]) == s.upos[i];
      acc.xpos_correct += tagger.xpos(tags[i]) == s.xpos[i];
    }
  }
  return acc;
}

PosTrainResult train_pos_tagger(std::span<const UdSentence> train,
                                std::span<const UdSentence> dev, const PosTrainOptions& options,
                                const std::function<void(const PosEpoch&)>& on_epoch) {
  if (train.empty()) throw InputError("train-tagger", "expected training sentences, got none");
  if (options.epochs < 1) {
    throw InputError("--epochs", "expected at least 1, got " + std::to_string(options.epochs));
  }
  // The tag set: every (UPOS, XPOS) pair of the training data, sorted.
  std::map<std::pair<std::string, std::string>, uint16_t> tag_ids;
  for (const UdSentence& s : train) {
    for (size_t i = 0; i < s.forms.size(); ++i) tag_ids.emplace(std::pair(s.upos[i], s.xpos[i]), 0);
  }
  if (tag_ids.size() > 65535) {
    throw InputError("train-tagger", "at most 65535 (UPOS, XPOS) pairs expected, got " +
                                         std::to_string(tag_ids.size()));
  }
  PosTagger tagger = PosTaggerBuilder::make();
  for (auto& [pair, id] : tag_ids) {
    id = static_cast<uint16_t>(PosTaggerBuilder::tags(tagger).size());
    PosTaggerBuilder::tags(tagger).push_back(pair);
  }
  PosTaggerBuilder::finish(tagger);

  // Gold tag ids, and the words frequent and unambiguous enough to be looked up.
  std::vector<std::vector<uint16_t>> gold(train.size());
  std::map<std::string, std::map<uint16_t, size_t>> counts;
  for (size_t s = 0; s < train.size(); ++s) {
    for (size_t i = 0; i < train[s].forms.size(); ++i) {
      uint16_t id = tag_ids.at(std::pair(train[s].upos[i], train[s].xpos[i]));
      gold[s].push_back(id);
      ++counts[train[s].forms[i]][id];
    }
  }
  auto& tagdict = PosTaggerBuilder::tagdict(tagger);
  for (const auto& [form, by_tag] : counts) {
    size_t n = 0, top = 0;
    uint16_t top_tag = 0;
    for (auto [tag, c] : by_tag) {
      n += c;
      if (c > top) top = c, top_tag = tag;
    }
    if (n >= options.tagdict_min_count &&
        static_cast<double>(top) >= options.tagdict_min_share * static_cast<double>(n)) {
      tagdict.emplace(form, top_tag);
    }
  }

  const std::vector<std::string>& keys = PosTaggerBuilder::keys(tagger);

  // Ambiguity classes of the frequent words (by norm): their tags of a large enough share.
  const pos_detail::Lexicon no_lexicon;
  std::map<std::string, std::map<uint16_t, size_t>> norm_counts;
  for (size_t s = 0; s < train.size(); ++s) {
    std::vector<std::string_view> forms(train[s].forms.begin(), train[s].forms.end());
    std::vector<pos_detail::PosWord> pw = pos_detail::prepare_words(forms, no_lexicon);
    for (size_t i = 0; i < pw.size(); ++i) ++norm_counts[pw[i].norm][gold[s][i]];
  }
  auto& lexicon = PosTaggerBuilder::lexicon(tagger);
  for (const auto& [norm, by_tag] : norm_counts) {
    size_t n = 0;
    for (auto [tag, c] : by_tag) n += c;
    if (n < options.lexicon_min_count) continue;
    std::string amb;
    for (auto [tag, c] : by_tag) {
      if (static_cast<double>(c) < options.lexicon_min_share * static_cast<double>(n)) continue;
      amb += (amb.empty() ? "" : "|") + keys[tag];
    }
    lexicon.emplace(norm, amb);
  }
  Perceptron model(keys.size());
  std::mt19937_64 rng(options.seed);
  std::vector<size_t> order(train.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::vector<pos_detail::Feature> feats;
  PosTrainResult result{PosTaggerBuilder::make(), 0, {}};
  PosAccuracy best;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    // Fisher-Yates with the raw generator (std::shuffle's draws are library-specific).
    for (size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[rng() % k]);
    for (size_t s : order) {
      std::vector<std::string_view> forms(train[s].forms.begin(), train[s].forms.end());
      std::vector<pos_detail::PosWord> pw = pos_detail::prepare_words(forms, lexicon);
      std::string_view prev1 = "-START-", prev2 = "-START2-";
      for (size_t i = 0; i < pw.size(); ++i) {
        uint16_t guess;
        if (auto it = tagdict.find(pw[i].form); it != tagdict.end()) {
          guess = it->second;
        } else {
          pos_detail::extract_features(pw, i, prev1, prev2, feats);
          guess = model.predict(feats);
          model.step(feats, gold[s][i], guess);
        }
        prev2 = prev1;
        prev1 = keys[guess];
      }
    }
    model.snapshot(tagger, options.prune);
    PosEpoch e{epoch, evaluate_pos(tagger, dev), tagger.n_features(), tagger.n_weights()};
    result.epochs.push_back(e);
    if (on_epoch) on_epoch(e);
    bool better = result.best_epoch == 0 || e.dev.upos_correct > best.upos_correct ||
                  (e.dev.upos_correct == best.upos_correct &&
                   e.dev.xpos_correct > best.xpos_correct);
    if (better) {
      best = e.dev;
      result.best_epoch = epoch;
      result.tagger = tagger;
    }
  }
  return result;
}

}  // namespace lossgap
