// Unit tests of the part-of-speech tagger (tags/pos.h, tags/pos_train.h): content/function
// classes, training determinism and the model file round trip on a hand-made corpus, strict
// loading, CoNLL-U reading, the shipped model on hand-made sentences and token spans, and (when
// ../shared is present) its accuracy on the UD test splits.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/error.h"
#include "tags/pos.h"
#include "tags/pos_train.h"

namespace lossgap {
namespace {

namespace fs = std::filesystem;

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("lossgap_test_pos_" + std::to_string(getpid()) + "_" + name);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

fs::path shipped_model() { return fs::path(LOSSGAP_SOURCE_DIR) / "models/pos/en_ud.pos"; }

// A small hand-made corpus: (form, UPOS, XPOS) per word.
std::vector<UdSentence> tiny_corpus() {
  auto s = [](std::vector<std::array<const char*, 3>> words) {
    UdSentence out;
    for (auto& w : words) {
      out.forms.emplace_back(w[0]);
      out.upos.emplace_back(w[1]);
      out.xpos.emplace_back(w[2]);
    }
    return out;
  };
  return {
      s({{"The", "DET", "DT"}, {"dog", "NOUN", "NN"}, {"runs", "VERB", "VBZ"}, {".", "PUNCT", "."}}),
      s({{"A", "DET", "DT"}, {"cat", "NOUN", "NN"}, {"sleeps", "VERB", "VBZ"}, {".", "PUNCT", "."}}),
      s({{"Dogs", "NOUN", "NNS"}, {"run", "VERB", "VBP"}, {"fast", "ADV", "RB"}, {"!", "PUNCT", "."}}),
      s({{"She", "PRON", "PRP"}, {"can", "AUX", "MD"}, {"run", "VERB", "VB"}, {".", "PUNCT", "."}}),
      s({{"The", "DET", "DT"}, {"run", "NOUN", "NN"}, {"was", "AUX", "VBD"}, {"long", "ADJ", "JJ"},
         {".", "PUNCT", "."}}),
  };
}

TEST(TagsPos, ContentFunctionOther) {
  for (const char* t : {"NOUN", "PROPN", "VERB", "ADJ", "ADV"}) {
    EXPECT_EQ(pos_class_of(t), PosClass::Content) << t;
  }
  for (const char* t : {"ADP", "AUX", "CCONJ", "DET", "NUM", "PART", "PRON", "SCONJ"}) {
    EXPECT_EQ(pos_class_of(t), PosClass::Function) << t;
  }
  for (const char* t : {"INTJ", "PUNCT", "SYM", "X", ""}) {
    EXPECT_EQ(pos_class_of(t), PosClass::Other) << t;
  }
  EXPECT_STREQ(pos_class_name(PosClass::Content), "content");
  EXPECT_STREQ(pos_class_name(PosClass::Function), "function");
  EXPECT_STREQ(pos_class_name(PosClass::Other), "other");
}

TEST(TagsPos, TrainingIsDeterministicAndTheFileRoundTrips) {
  std::vector<UdSentence> corpus = tiny_corpus();
  PosTrainOptions opts;
  opts.epochs = 6;
  opts.seed = 42;
  opts.prune = 0.0f;
  opts.tagdict_min_count = 2;  // "The" and "." are looked up
  opts.lexicon_min_count = 1;
  std::vector<int> seen_epochs;
  PosTrainResult a = train_pos_tagger(corpus, corpus, opts,
                                      [&](const PosEpoch& e) { seen_epochs.push_back(e.epoch); });
  PosTrainResult b = train_pos_tagger(corpus, corpus, opts);
  EXPECT_EQ(seen_epochs, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  ASSERT_GE(a.best_epoch, 1);
  EXPECT_EQ(a.epochs.size(), 6u);

  fs::path pa = temp_path("a.pos"), pb = temp_path("b.pos");
  a.tagger.save(pa);
  b.tagger.save(pb);
  std::string text = read_file(pa);
  EXPECT_EQ(text, read_file(pb)) << "same seed, same inputs: the model files must be identical";
  EXPECT_TRUE(text.starts_with("lossgap-pos-tagger 1\n")) << text.substr(0, 40);

  // The tag set is every (UPOS, XPOS) pair of the training data, sorted.
  std::set<std::pair<std::string, std::string>> pairs;
  size_t n_words = 0;
  for (const UdSentence& s : corpus) {
    for (size_t i = 0; i < s.forms.size(); ++i) pairs.emplace(s.upos[i], s.xpos[i]);
    n_words += s.forms.size();
  }
  ASSERT_EQ(a.tagger.n_tags(), pairs.size());
  size_t k = 0;
  for (const auto& [u, x] : pairs) {
    EXPECT_EQ(a.tagger.upos(static_cast<uint16_t>(k)), u);
    EXPECT_EQ(a.tagger.xpos(static_cast<uint16_t>(k)), x);
    ++k;
  }
  PosTagger loaded = PosTagger::load(pa);
  EXPECT_EQ(loaded.n_tags(), a.tagger.n_tags());
  EXPECT_EQ(loaded.n_features(), a.tagger.n_features());
  EXPECT_EQ(loaded.n_weights(), a.tagger.n_weights());
  for (const UdSentence& s : corpus) {
    EXPECT_EQ(loaded.tag_words(std::span<const std::string>(s.forms)),
              a.tagger.tag_words(std::span<const std::string>(s.forms)));
  }
  // Saving what was loaded gives the same bytes.
  fs::path pc = temp_path("c.pos");
  loaded.save(pc);
  EXPECT_EQ(read_file(pc), text);
  // It learnt its (separable) training data.
  PosAccuracy acc = evaluate_pos(loaded, corpus);
  EXPECT_EQ(acc.words, n_words);
  EXPECT_EQ(acc.upos_correct, acc.words);
  EXPECT_EQ(acc.xpos_correct, acc.words);
  fs::remove(pa);
  fs::remove(pb);
  fs::remove(pc);
}

TEST(TagsPos, BadTrainingInput) {
  std::vector<UdSentence> corpus = tiny_corpus();
  PosTrainOptions opts;
  EXPECT_THROW(train_pos_tagger({}, corpus, opts), InputError);
  opts.epochs = 0;
  EXPECT_THROW(train_pos_tagger(corpus, corpus, opts), InputError);
}

// Loading names the file and line of what is wrong.
TEST(TagsPos, LoadRejectsBadFiles) {
  PosTrainOptions opts;
  opts.epochs = 2;
  opts.prune = 0.0f;
  PosTrainResult r = train_pos_tagger(tiny_corpus(), tiny_corpus(), opts);
  fs::path good = temp_path("good.pos");
  r.tagger.save(good);
  std::string text = read_file(good);

  auto expect_error = [&](const std::string& content, const std::string& needle) {
    fs::path p = temp_path("bad.pos");
    write_file(p, content);
    try {
      PosTagger::load(p);
      ADD_FAILURE() << "loaded a bad file; expected an error containing \"" << needle << "\"";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
    fs::remove(p);
  };
  expect_error("lossgap-pos-tagger 2\n" + text.substr(text.find('\n') + 1), ":1: expected the header");
  expect_error(text.substr(0, text.size() / 2), "");
  std::string bad_weight = text;
  size_t colon = bad_weight.rfind(':');
  bad_weight.insert(colon + 1, "x");
  expect_error(bad_weight, "integer weight");
  expect_error(text + "junk\n", "end of the file");
  EXPECT_THROW(PosTagger::load(temp_path("missing.pos")), InputError);
  fs::remove(good);
}

TEST(TagsPos, ReadsConllu) {
  fs::path p = temp_path("x.conllu");
  write_file(p,
             "# sent_id = 1\n# text = I don't.\n"
             "1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n"
             "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
             "2\tdo\tdo\tAUX\tVBP\t_\t0\troot\t_\t_\n"
             "3\tn't\tnot\tPART\tRB\t_\t2\tadvmod\t_\tSpaceAfter=No\n"
             "3.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t2:conj\t_\n"
             "4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_\n\n"
             "1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_\n");
  std::vector<UdSentence> s = read_conllu(p);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].forms, (std::vector<std::string>{"I", "do", "n't", "."}));
  EXPECT_EQ(s[0].upos, (std::vector<std::string>{"PRON", "AUX", "PART", "PUNCT"}));
  EXPECT_EQ(s[0].xpos, (std::vector<std::string>{"PRP", "VBP", "RB", "."}));
  EXPECT_EQ(s[1].forms, (std::vector<std::string>{"Yes"}));

  write_file(p, "# c\n\n1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\n");
  try {
    read_conllu(p);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string() + ":3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("10 tab-separated columns, got 9"), std::string::npos)
        << e.what();
  }
  fs::remove(p);
  EXPECT_THROW(read_conllu(temp_path("missing.conllu")), InputError);
}

std::vector<std::string> upos_of(const PosTagger& t, std::string_view text) {
  std::vector<std::string> out;
  for (const auto& w : t.tag_text(text)) out.emplace_back(t.upos(w.tag));
  return out;
}

std::vector<std::string> xpos_of(const PosTagger& t, std::string_view text) {
  std::vector<std::string> out;
  for (const auto& w : t.tag_text(text)) out.emplace_back(t.xpos(w.tag));
  return out;
}

using V = std::vector<std::string>;

TEST(TagsPos, ShippedModelTagsHandMadeSentences) {
  PosTagger t = PosTagger::load(shipped_model());
  EXPECT_EQ(upos_of(t, "The cat sat on the mat."),
            (V{"DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"}));
  EXPECT_EQ(xpos_of(t, "The cat sat on the mat."), (V{"DT", "NN", "VBD", "IN", "DT", "NN", "."}));
  EXPECT_EQ(upos_of(t, "She doesn't like green apples."),
            (V{"PRON", "AUX", "PART", "VERB", "ADJ", "NOUN", "PUNCT"}));
  EXPECT_EQ(xpos_of(t, "She doesn't like green apples."),
            (V{"PRP", "VBZ", "RB", "VB", "JJ", "NNS", "."}));
  EXPECT_EQ(upos_of(t, "John's brother will visit Paris and Rome next year."),
            (V{"PROPN", "PART", "NOUN", "AUX", "VERB", "PROPN", "CCONJ", "PROPN", "ADJ", "NOUN",
               "PUNCT"}));
  EXPECT_EQ(upos_of(t, "They quickly read two books because it was raining."),
            (V{"PRON", "ADV", "VERB", "NUM", "NOUN", "SCONJ", "PRON", "AUX", "VERB", "PUNCT"}));
}

TEST(TagsPos, ShippedModelTagsTokens) {
  PosTagger t = PosTagger::load(shipped_model());
  // Byte-level BPE style pieces of the text: BOS, "I", " don", "'t", " like", " c", "ats", ".",
  // "\n".
  std::string text = "I don't like cats.\n";
  std::vector<std::pair<uint32_t, uint32_t>> spans = {{0, 0},   {0, 1},   {1, 5},
                                                      {5, 7},   {7, 12},  {12, 14},
                                                      {14, 17}, {17, 18}, {18, 19}};
  DocumentPos doc = tag_tokens(t, text, spans);
  ASSERT_EQ(doc.words.size(), 6u);  // I do n't like cats .
  ASSERT_EQ(doc.tokens.size(), spans.size());
  V upos, cls;
  std::vector<bool> initial;
  for (const TokenPos& tp : doc.tokens) {
    upos.emplace_back(tp.upos);
    cls.emplace_back(pos_class_name(tp.pos_class));
    initial.push_back(tp.word_initial);
  }
  EXPECT_EQ(upos, (V{"", "PRON", "AUX", "PART", "VERB", "NOUN", "NOUN", "PUNCT", ""}));
  EXPECT_EQ(cls, (V{"other", "function", "function", "function", "content", "content", "content",
                    "other", "other"}));
  EXPECT_EQ(initial, (std::vector<bool>{false, true, true, false, true, true, false, true, false}));
  EXPECT_EQ(doc.tokens[0].word, -1);
  EXPECT_EQ(doc.tokens[3].word, 2);  // "'t" is inside "n't"
  EXPECT_EQ(doc.tokens[3].xpos, "RB");
  EXPECT_EQ(doc.tokens[8].word, -1);
}

// The fast decoder (pos_fast.cpp) against the reference decoder, tag for tag: on random
// sentences mixing frequent words (tag dictionary, lexicon), capitals, digits, punctuation,
// non-ASCII letters, invalid UTF-8 and long words; and on a tagger trained in memory.
TEST(TagsPos, FastDecoderMatchesReference) {
  const PosTagger t = PosTagger::load(shipped_model());
  const std::vector<std::string> pieces = {
      "the", "The", "run", "runs", "can", "n't", "'s", "do", "John", "Paris", "3.14", "1,000", "1999",
      ".", ",", "!", "?", "--", "(", ")", "\"", "U.S.", "e-mail", "x", "I", "straße", "ÉCOLE", "naïve",
      "日本語", "Ωmega", "\xff\xfe", "a\xc3", "supercalifragilisticexpialidocious", "ABC123def",
      "_init_", "<b>", "http://x.org", "😀", "Mr.", "well-known", "x2", "00", "", "   "};
  std::mt19937 rng(7);
  for (int s = 0; s < 400; ++s) {
    std::vector<std::string> words(1 + rng() % 30);
    for (auto& w : words) {
      w = pieces[rng() % pieces.size()];
      if (rng() % 4 == 0) w += pieces[rng() % pieces.size()];
    }
    std::vector<std::string_view> views(words.begin(), words.end());
    ASSERT_EQ(t.tag_words(std::span<const std::string_view>(views)),
              t.tag_words_reference(std::span<const std::string_view>(views)))
        << "sentence " << s;
  }
  PosTrainResult trained = train_pos_tagger(tiny_corpus(), tiny_corpus(), PosTrainOptions{});
  for (const UdSentence& u : tiny_corpus()) {
    std::vector<std::string_view> views(u.forms.begin(), u.forms.end());
    EXPECT_EQ(trained.tagger.tag_words(std::span<const std::string_view>(views)),
              trained.tagger.tag_words_reference(std::span<const std::string_view>(views)));
  }
  EXPECT_TRUE(t.tag_words(std::span<const std::string_view>()).empty());
}

// Every sentence of the UD test splits: the fast decoder gives the reference decoder's tags.
TEST(TagsPos, FastDecoderMatchesReferenceOnUdTest) {
  fs::path ud = fs::path(LOSSGAP_SHARED_DIR) / "data/ud";
  if (!fs::exists(ud / "en_ewt-ud-test.conllu")) {
    GTEST_SKIP() << "no UD data at " << ud << " (the shared data folder is absent)";
  }
  const PosTagger t = PosTagger::load(shipped_model());
  size_t words = 0;
  for (const char* name : {"en_ewt-ud-test", "en_gum-ud-test", "en_pud-ud-test"}) {
    for (const UdSentence& u : read_conllu(ud / (std::string(name) + ".conllu"))) {
      std::vector<std::string_view> views(u.forms.begin(), u.forms.end());
      ASSERT_EQ(t.tag_words(std::span<const std::string_view>(views)),
                t.tag_words_reference(std::span<const std::string_view>(views)));
      words += views.size();
    }
  }
  EXPECT_GT(words, 10000u);
}

// The figures of docs/pos-tagger.md: accuracy of the shipped model on the held-out UD splits.
TEST(TagsPos, ShippedModelAccuracyOnUdTest) {
  fs::path ud = fs::path(LOSSGAP_SHARED_DIR) / "data/ud";
  if (!fs::exists(ud / "en_ewt-ud-test.conllu")) {
    GTEST_SKIP() << "no UD data at " << ud << " (the shared data folder is absent)";
  }
  PosTagger t = PosTagger::load(shipped_model());
  for (const char* name : {"en_ewt-ud-test", "en_gum-ud-test", "en_pud-ud-test"}) {
    PosAccuracy a = evaluate_pos(t, read_conllu(ud / (std::string(name) + ".conllu")));
    std::printf("%-16s words %6zu  UPOS %.2f%%  XPOS %.2f%%\n", name, a.words, 100.0 * a.upos(),
                100.0 * a.xpos());
    RecordProperty(std::string(name) + "_upos", std::to_string(a.upos()));
    RecordProperty(std::string(name) + "_xpos", std::to_string(a.xpos()));
    if (std::string(name) == "en_ewt-ud-test") {
      EXPECT_GE(a.upos(), 0.95) << "the target is >= 95% UPOS on EWT test";
    }
  }
}

}  // namespace
}  // namespace lossgap

namespace lossgap {
namespace {

// One CoNLL-U sentence with its raw text and the byte span of each syntactic word in it,
// found by matching the word forms left to right (sentences where that fails are dropped).
struct RawSentence {
  std::string text;
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  std::vector<std::string> upos;
};

std::vector<RawSentence> read_raw(const fs::path& path) {
  std::vector<RawSentence> out;
  std::ifstream in(path);
  std::string line;
  RawSentence cur;
  uint32_t pos = 0;
  bool ok = true;
  auto flush = [&] {
    if (ok && !cur.spans.empty()) out.push_back(cur);
    cur = RawSentence{};
    pos = 0;
    ok = true;
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
    } else if (line.starts_with("# text = ")) {
      cur.text = line.substr(9);
    } else if (line[0] != '#') {
      std::vector<std::string> cols;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
      if (cols.size() != 10 || cols[0].find_first_of("-.") != std::string::npos || !ok) continue;
      while (pos < cur.text.size() && cur.text[pos] == ' ') ++pos;
      if (cur.text.compare(pos, cols[1].size(), cols[1]) != 0) {
        ok = false;
        continue;
      }
      cur.spans.emplace_back(pos, pos + static_cast<uint32_t>(cols[1].size()));
      cur.upos.push_back(cols[3]);
      pos += static_cast<uint32_t>(cols[1].size());
    }
  }
  flush();
  return out;
}

// Words from raw text (split_words) against UD's words, and the tags they get from tag_text:
// the share of gold words found with the same span, and the UPOS accuracy over those.
TEST(TagsPos, RawTextWordsAndTagsOnUdTest) {
  fs::path ud = fs::path(LOSSGAP_SHARED_DIR) / "data/ud";
  if (!fs::exists(ud / "en_ewt-ud-test.conllu")) {
    GTEST_SKIP() << "no UD data at " << ud << " (the shared data folder is absent)";
  }
  PosTagger t = PosTagger::load(shipped_model());
  for (const char* name : {"en_ewt-ud-test", "en_gum-ud-test", "en_pud-ud-test"}) {
    std::vector<RawSentence> sents = read_raw(ud / (std::string(name) + ".conllu"));
    size_t gold = 0, found = 0, predicted = 0, upos_ok = 0;
    for (const RawSentence& s : sents) {
      std::vector<PosTagger::TaggedWord> words = t.tag_text(s.text);
      predicted += words.size();
      gold += s.spans.size();
      size_t k = 0;
      for (size_t g = 0; g < s.spans.size(); ++g) {
        while (k < words.size() && words[k].span.start < s.spans[g].first) ++k;
        if (k < words.size() && words[k].span.start == s.spans[g].first &&
            words[k].span.end == s.spans[g].second) {
          ++found;
          upos_ok += t.upos(words[k].tag) == s.upos[g];
        }
      }
    }
    double recall = static_cast<double>(found) / static_cast<double>(gold);
    double precision = static_cast<double>(found) / static_cast<double>(predicted);
    double upos = static_cast<double>(upos_ok) / static_cast<double>(found);
    std::printf("%-16s sentences %5zu  word recall %.2f%%  precision %.2f%%  UPOS on found %.2f%%\n",
                name, sents.size(), 100.0 * recall, 100.0 * precision, 100.0 * upos);
    EXPECT_GE(recall, 0.97) << name;
    EXPECT_GE(precision, 0.97) << name;
  }
}

}  // namespace
}  // namespace lossgap
