// The seed example against an installed fusejit: a zip then a reduce, fused
// into one matmul kernel, realized once when the values are read.
#include <fusejit/fusejit.h>

#include <iostream>

int main() {
  using fusejit::Tensor;
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3, 1});
  Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor d = (a * b).sum({1}).relu() + 0.5;  // a graph; nothing computed yet
  std::cout << fusejit::dump(d, fusejit::Stage::Kernels);
  for (float v : d.to_vector<float>()) std::cout << v << " ";  // compiles and runs once
  std::cout << "\n";
  return 0;
}
