#include "lib/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/absl_compat.h"

namespace labkube::metrics {
namespace {

[[noreturn]] void Fatal(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

bool ValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// {a="x",b="y"} with an optional extra label (le) at the end; "" when there are no labels.
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = "", std::string_view extra_value = "") {
  std::vector<std::string> pairs;
  for (size_t i = 0; i < names.size(); ++i) {
    pairs.push_back(absl::StrCat(names[i], "=\"", EscapeLabelValue(values[i]), "\""));
  }
  if (!extra_name.empty()) {
    pairs.push_back(absl::StrCat(ToAbsl(extra_name), "=\"", ToAbsl(extra_value), "\""));
  }
  if (pairs.empty()) return "";
  return absl::StrCat("{", absl::StrJoin(pairs, ","), "}");
}

void AppendHeader(const FamilyBase& family, std::string& out) {
  absl::StrAppend(&out, "# HELP ", family.name(), " ", EscapeHelp(family.help()), "\n");
  absl::StrAppend(&out, "# TYPE ", family.name(), " ", family.type(), "\n");
}

std::vector<double> CheckedBounds(const std::string& name, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      Fatal(absl::StrCat("histogram ", name, ": buckets must be finite and strictly increasing"));
    }
  }
  return bounds;
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Counter::Inc(double delta) {
  if (delta < 0) return;
  value_.fetch_add(delta, std::memory_order_relaxed);
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1)) {}

void Histogram::Observe(double value) {
  // Bucket i counts values <= bounds[i] (and above bounds[i-1]); the last is +Inf.
  size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::string type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(std::move(type)),
      label_names_(std::move(label_names)) {}

template <typename T>
template <typename A, typename B>
bool Family<T>::ValuesLess::operator()(const A& a, const B& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](std::string_view x, std::string_view y) { return x < y; });
}

template <typename T>
T& Family<T>::Labels(std::initializer_list<std::string_view> values) {
  return LabelsImpl(absl::Span<const std::string_view>(values.begin(), values.size()));
}

template <typename T>
T& Family<T>::Labels(const std::vector<std::string>& values) {
  std::vector<std::string_view> views(values.begin(), values.end());
  return LabelsImpl(views);
}

template <typename T>
T& Family<T>::LabelsImpl(absl::Span<const std::string_view> values) {
  if (values.size() != label_names().size()) {
    Fatal(absl::StrCat(name(), ": got ", values.size(), " label values for ", label_names().size(),
                       " label names"));
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::vector<std::string> key(values.begin(), values.end());
  return *children_.emplace(std::move(key), NewChild()).first->second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void CounterFamily::Expose(std::string& out) const {
  absl::ReaderMutexLock lock(&mu_);
  if (children_.empty()) return;
  AppendHeader(*this, out);
  for (const auto& [values, child] : children_) {
    absl::StrAppend(&out, name(), LabelText(label_names(), values), " ",
                    FormatValue(child->Value()), "\n");
  }
}

void GaugeFamily::Expose(std::string& out) const {
  absl::ReaderMutexLock lock(&mu_);
  if (children_.empty()) return;
  AppendHeader(*this, out);
  for (const auto& [values, child] : children_) {
    absl::StrAppend(&out, name(), LabelText(label_names(), values), " ",
                    FormatValue(child->Value()), "\n");
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : Family<Histogram>(std::move(name), std::move(help), "histogram", std::move(label_names)),
      bounds_(std::make_shared<const std::vector<double>>(std::move(bounds))) {}

std::unique_ptr<Histogram> HistogramFamily::NewChild() const {
  return std::make_unique<Histogram>(bounds_);
}

void HistogramFamily::Expose(std::string& out) const {
  absl::ReaderMutexLock lock(&mu_);
  if (children_.empty()) return;
  AppendHeader(*this, out);
  const std::vector<double>& bounds = *bounds_;
  for (const auto& [values, child] : children_) {
    std::vector<uint64_t> counts = child->CumulativeCounts();
    for (size_t i = 0; i < counts.size(); ++i) {
      std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
      absl::StrAppend(&out, name(), "_bucket", LabelText(label_names(), values, "le", le), " ",
                      counts[i], "\n");
    }
    std::string labels = LabelText(label_names(), values);
    absl::StrAppend(&out, name(), "_sum", labels, " ", FormatValue(child->Sum()), "\n");
    absl::StrAppend(&out, name(), "_count", labels, " ", counts.back(), "\n");
  }
}

template <typename F, typename... Args>
F* Registry::Register(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names, Args&&... args) {
  std::string n(name);
  if (!ValidName(name, /*allow_colon=*/true))
    Fatal(absl::StrCat("invalid metric name \"", n, "\""));
  for (const std::string& label : label_names) {
    if (!ValidName(label, false) || label.rfind("__", 0) == 0) {
      Fatal(absl::StrCat(n, ": invalid label name \"", label, "\""));
    }
  }
  auto family = std::make_unique<F>(n, std::string(help), label_names, std::forward<Args>(args)...);
  absl::MutexLock lock(&mu_);
  auto it = families_.find(n);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<F*>(it->second.get());
    if (existing == nullptr || existing->help() != family->help() ||
        existing->label_names() != label_names) {
      Fatal(absl::StrCat("metric \"", n, "\" registered twice with different definitions"));
    }
    return existing;
  }
  F* raw = family.get();
  if (label_names.empty()) raw->Labels({});  // the one child exists from the start
  families_.emplace(n, std::move(family));
  return raw;
}

CounterFamily* Registry::Counter(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names) {
  return Register<CounterFamily>(name, help, std::move(label_names));
}

GaugeFamily* Registry::Gauge(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names) {
  return Register<GaugeFamily>(name, help, std::move(label_names));
}

HistogramFamily* Registry::Histogram(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  for (const std::string& label : label_names) {
    if (label == "le")
      Fatal(absl::StrCat(ToAbsl(name), ": histograms may not use the label \"le\""));
  }
  bounds = CheckedBounds(std::string(name), std::move(bounds));
  std::vector<double> wanted = bounds;
  HistogramFamily* family =
      Register<HistogramFamily>(name, help, std::move(label_names), std::move(bounds));
  if (family->bounds() != wanted) {
    Fatal(absl::StrCat("histogram \"", ToAbsl(name), "\" registered twice with different buckets"));
  }
  return family;
}

std::string Registry::Expose() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Expose(out);
  return out;
}

std::vector<double> Registry::DefaultBuckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

std::vector<double> Registry::ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

std::vector<double> Registry::LinearBuckets(double start, double width, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i) out.push_back(start + i * width);
  return out;
}

Registry& DefaultRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace labkube::metrics
