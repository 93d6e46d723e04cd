// Whether ops record the history backward() follows, per thread (libtorch's
// GradMode). A NoGradGuard turns recording off for its scope on its thread:
// results built under it are untracked (requires_grad() is false), as for an
// optimizer step or an evaluation pass.
#pragma once

namespace fusejit {

// True unless a NoGradGuard is alive on this thread.
bool is_grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();  // restores what was before, so guards nest
  NoGradGuard(const NoGradGuard &) = delete;
  NoGradGuard &operator=(const NoGradGuard &) = delete;

 private:
  bool previous_;
};

}  // namespace fusejit
