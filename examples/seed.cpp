// The seed example through the C++ API: a (2,3,1) tensor times a (3,2)
// tensor, broadcast to (2,3,2), summed over dim 1 — a matmul written as a
// zip then a reduce. Nothing is computed until the result is read.
#include <fusejit/fusejit.h>

#include <iostream>

using fusejit::Tensor;

int main() {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3, 1});
  Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor c = (a * b).sum({1});  // f32[2, 2]
  Tensor d = c.relu() + 0.5;

  std::cout << fusejit::dump(d, fusejit::Stage::Graph);
  std::vector<float> v = d.to_vector<float>();
  // By hand: row 0 of a is (1, 2, 3); b's columns are (1, 0, 1) and (0, 1, 1),
  // so c[0] = (1 + 3, 2 + 3) = (4, 5); row 1 (4, 5, 6) gives (10, 11).
  std::cout << "d = [[" << v[0] << ", " << v[1] << "], [" << v[2] << ", " << v[3] << "]]"
            << "   (by hand: [[4.5, 5.5], [10.5, 11.5]])\n";
  std::cout << d << "\n";  // as libtorch prints it: already realized, nothing recomputed
  return 0;
}
