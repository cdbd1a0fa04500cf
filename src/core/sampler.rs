//! Which tracked resources get a full allocation stack with `stacks: 'sample'`.
//!
//! Instead of a coin toss per `track` (a call into Rust each time), the sampler hands out the gap
//! to the next sampled resource, drawn from the geometric distribution with mean `1 / rate`
//! (as heap profilers do): the JS side counts down and asks again only when it sampled. The
//! result is the same as an independent `rate` chance for every resource.

pub struct Sampler {
  rate: f64,
  state: u64,
}

/// Gap that means "never" (rate 0). Stays exact as a JS number.
pub const NEVER: u64 = 1 << 53;

impl Sampler {
  /// `rate` in [0, 1]; `seed` varies the sequence between registries.
  pub fn new(rate: f64, seed: u64) -> Self {
    Sampler {
      rate: rate.clamp(0.0, 1.0),
      state: seed | 1,
    }
  }

  /// How many `track` calls from now the next sample is (1 = the very next one).
  pub fn next_gap(&mut self) -> u64 {
    if self.rate >= 1.0 {
      return 1;
    }
    if self.rate <= 0.0 {
      return NEVER;
    }
    // Uniform in (0, 1]: never 0, so the logarithm stays finite.
    let uniform = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let gap = (uniform.ln() / (1.0 - self.rate).ln()).floor() + 1.0;
    (gap as u64).clamp(1, NEVER)
  }

  /// xorshift64*: small, fast and good enough to spread samples.
  fn next_u64(&mut self) -> u64 {
    self.state ^= self.state >> 12;
    self.state ^= self.state << 25;
    self.state ^= self.state >> 27;
    self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn rate_one_samples_everything_and_zero_nothing() {
    assert_eq!(Sampler::new(1.0, 7).next_gap(), 1);
    assert_eq!(Sampler::new(0.0, 7).next_gap(), NEVER);
  }

  #[test]
  fn the_mean_gap_is_one_over_the_rate() {
    for rate in [0.5, 0.1, 0.01] {
      let mut sampler = Sampler::new(rate, 42);
      let n = 200_000;
      let total: u64 = (0..n).map(|_| sampler.next_gap()).sum();
      let mean = total as f64 / n as f64;
      let expected = 1.0 / rate;
      assert!(
        (mean - expected).abs() < expected * 0.03,
        "rate {rate}: mean gap {mean}, expected {expected}"
      );
    }
  }

  #[test]
  fn every_gap_is_at_least_one() {
    let mut sampler = Sampler::new(0.9, 3);
    assert!((0..10_000).all(|_| sampler.next_gap() >= 1));
  }
}
