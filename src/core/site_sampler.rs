//! Which tracked resources get their call site captured, and which a full allocation stack.
//!
//! A call site costs a V8 stack capture (about 1 to 3 µs, 3 to 9 µs inside a busy HTTP server),
//! several times what the rest of a `track()` costs, so with the default `sites: 'auto'` a
//! registry captures every site only while it tracks fewer than `FULL_RATE` resources per second
//! (a token bucket of `BURST` captures, refilled at `FULL_RATE` per second). Once the bucket runs
//! dry the registry is above the rate, and captures a random `1 / SAMPLED_WEIGHT` of its sites,
//! each standing for `SAMPLED_WEIGHT` resources (Go's heap profiler and Netty sample the same
//! way), until a second in which it tracked fewer than `FULL_RATE` (it checks every second,
//! from the tracks each replay counts): then the bucket is full again. A site that leaks `n` times above the rate is named with probability
//! `1 - (1 - 1/SAMPLED_WEIGHT)^n`: at least 0.999 from 93 leaks, 0.9994 for 100. Counts per site
//! add each report's weight, so they stay unbiased estimates (Horvitz-Thompson), and a report says
//! when its count is one. `sites: 'all'` captures every site at any rate.
//!
//! Stacks: `stacks: 'sample'` gives a full stack (about 5 to 10 µs, which names the site too) to a
//! `sampleRate` fraction of the resources whose site is captured at full rate (every one below
//! the rate, about `FULL_RATE` a second above it, so at most `FULL_RATE * sampleRate` stacks a
//! second), `'all'` to every resource (which then captures every site), `'off'` to none.
//!
//! The decisions are made in JS, per `track()`, from numbers this sampler hands out (protocol in
//! leak_events.rs): the bucket's tokens and when to ask for more, and lists of geometric gaps (as
//! heap profilers draw them): how many tracks until the next sampled site, how many captured sites
//! until the next stack. A gap drawn with mean `1 / p` gives each track an independent `p`
//! chance, so JS only counts down.

/// Sites captured in full per second while a registry tracks less than this (the bucket's rate).
pub const FULL_RATE: f64 = 1000.0;
/// Captures the bucket holds: a burst of up to this many tracks all get their site.
pub const BURST: f64 = 1000.0;
/// Above the rate, one track in this many (on average) gets its site, standing for this many.
pub const SAMPLED_WEIGHT: u32 = 14;
/// Above the rate, the registry checks its rate this often (milliseconds).
pub const RATE_CHECK_MS: f64 = 1000.0;
/// A gap that means "never" (stays exact as a JS number).
pub const NEVER: f64 = 9_007_199_254_740_992.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sites {
  /// Every site below `FULL_RATE` tracks per second, sampled above.
  Auto,
  /// Every site at any rate.
  All,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stacks {
  Off,
  /// This fraction of the resources whose site is captured.
  Sample(f64),
  All,
}

/// The sampling policy of one registry. JS holds the bucket's tokens (it spends them per track)
/// and hands back what is left at each refill.
pub struct SiteSampler {
  sites: Sites,
  stacks: Stacks,
  last_refill: f64,
  /// Above the rate: since when the tracks are counted, and how many there were.
  above: Option<(f64, f64)>,
  state: u64,
}

impl SiteSampler {
  /// `seed` varies the random sequence between registries; `now` is epoch milliseconds.
  pub fn new(sites: Sites, stacks: Stacks, seed: u64, now: f64) -> Self {
    SiteSampler {
      sites,
      stacks,
      last_refill: now,
      above: None,
      state: seed | 1,
    }
  }

  /// Whether every track captures its site (no bucket, no sampling).
  fn captures_all(&self) -> bool {
    self.sites == Sites::All || self.stacks == Stacks::All
  }

  /// Tops the bucket up for the time since the last refill, given the `left` tokens JS has not
  /// used and the `tracks` it made since. Returns the tokens JS may use now, and the time (epoch
  /// ms) from which asking again can give more (JS asks only once it has none left).
  pub fn refill(&mut self, left: f64, now: f64, tracks: f64) -> (f64, f64) {
    if self.captures_all() {
      return (f64::INFINITY, f64::INFINITY);
    }
    let elapsed = (now - self.last_refill).max(0.0);
    self.last_refill = now;
    if let Some((since, counted)) = self.above {
      let counted = counted + tracks;
      let window = now - since;
      if window < RATE_CHECK_MS {
        self.above = Some((since, counted));
        return (0.0, since + RATE_CHECK_MS);
      }
      if counted * 1000.0 / window >= FULL_RATE {
        self.above = Some((now, 0.0));
        return (0.0, now + RATE_CHECK_MS);
      }
      // A second below the rate: back to every site.
      self.above = None;
      return (BURST, now);
    }
    let tokens = (left.max(0.0) + elapsed * FULL_RATE / 1000.0).min(BURST);
    if tokens >= 1.0 {
      return (tokens, now);
    }
    self.above = Some((now, 0.0));
    (0.0, now + RATE_CHECK_MS)
  }

  /// How many tracks without a token from now the next sampled site is (1 = the very next one).
  pub fn site_gap(&mut self) -> f64 {
    if self.captures_all() {
      return NEVER;
    }
    self.gap(1.0 / f64::from(SAMPLED_WEIGHT))
  }

  /// How many sites captured at full rate from now the next full stack is.
  pub fn stack_gap(&mut self) -> f64 {
    match self.stacks {
      Stacks::Off => NEVER,
      Stacks::All => 1.0,
      Stacks::Sample(rate) => self.gap(rate),
    }
  }

  /// What a sampled site stands for.
  pub fn weight(&self) -> u32 {
    SAMPLED_WEIGHT
  }

  /// A geometric gap with mean `1 / rate`: the same as an independent `rate` chance per step.
  fn gap(&mut self, rate: f64) -> f64 {
    if rate >= 1.0 {
      return 1.0;
    }
    if rate <= 0.0 {
      return NEVER;
    }
    // Uniform in (0, 1]: never 0, so the logarithm stays finite.
    let uniform = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let gap = (uniform.ln() / (1.0 - rate).ln()).floor() + 1.0;
    gap.clamp(1.0, NEVER)
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

  /// The JS side of one registry (lib/leak-events.js `EventLog.decide`), step for step: what
  /// each track decides from the sampler's numbers. Returns the weight of the captured site
  /// (0: none).
  struct JsSide {
    sampler: SiteSampler,
    tokens: f64,
    refill_at: f64,
    site_gap: f64,
    /// Tracks since the last refill (the replay counts them).
    tracks: f64,
  }

  impl JsSide {
    fn new(sites: Sites, seed: u64, now: f64) -> Self {
      let mut sampler = SiteSampler::new(sites, Stacks::Off, seed, now);
      let (tokens, refill_at) = sampler.refill(BURST, now, 0.0);
      let site_gap = sampler.site_gap();
      JsSide {
        sampler,
        tokens,
        refill_at,
        site_gap,
        tracks: 0.0,
      }
    }

    fn track(&mut self, now: f64) -> u32 {
      if self.tokens < 1.0 && now >= self.refill_at {
        (self.tokens, self.refill_at) = self.sampler.refill(self.tokens, now, self.tracks);
        self.tracks = 0.0;
      }
      self.tracks += 1.0;
      if self.tokens >= 1.0 {
        self.tokens -= 1.0;
        return 1;
      }
      self.site_gap -= 1.0;
      if self.site_gap > 0.0 {
        return 0;
      }
      self.site_gap = self.sampler.site_gap();
      self.sampler.weight()
    }
  }

  #[test]
  fn below_the_rate_every_site_is_captured() {
    let mut js = JsSide::new(Sites::Auto, 7, 0.0);
    // 900 tracks per second for ten seconds, after a burst of 1,000 at once.
    let mut weights: Vec<u32> = (0..1000).map(|_| js.track(0.0)).collect();
    for i in 0..9000 {
      weights.push(js.track(1000.0 + f64::from(i) * 10_000.0 / 9000.0));
    }
    assert!(
      weights.iter().all(|w| *w == 1),
      "every site, each standing for itself"
    );
  }

  #[test]
  fn above_the_rate_only_a_sample_is_captured_and_below_it_again_every_site() {
    let mut js = JsSide::new(Sites::Auto, 11, 0.0);
    let tracks = 1_000_000; // in 10 s: 100,000 per second
    let mut full = 0u32;
    let mut sampled = 0u32;
    for i in 0..tracks {
      match js.track(f64::from(i) * 10_000.0 / f64::from(tracks)) {
        1 => full += 1,
        0 => {}
        _ => sampled += 1,
      }
    }
    assert!(
      (1000..1020).contains(&full),
      "{full} full captures: the burst (and what came in while it lasted), then none"
    );
    let expected = f64::from(tracks - full) / f64::from(SAMPLED_WEIGHT);
    assert!(
      (f64::from(sampled) - expected).abs() < expected * 0.03,
      "{sampled} sampled, expected about {expected}"
    );
    // Then 500 tracks per second: once a second has shown it, every site again.
    let mut again = 0;
    for i in 0..5000 {
      if js.track(10_000.0 + f64::from(i) * 2.0) == 1 {
        again += 1;
      }
    }
    assert!(again >= 3500, "{again} of 5,000 captured below the rate");
  }

  /// The guarantee the docs state: a site that leaks 100 times among 100,000 tracks per second
  /// is named by at least one of its reports with probability at least 0.999. 10,000 seeded
  /// trials, each of 10,000 tracks at 100,000 per second above the rate (the bucket dry) and 100
  /// of them, at random places, from the leaking site. (Each track's chance does not depend on
  /// how far apart the leaking tracks are: the gaps are memoryless, so a trial needs only as many
  /// tracks as hold 100 leaks.)
  #[test]
  fn a_site_that_leaks_100_times_among_100k_tracks_per_second_is_named_with_probability_0_999() {
    let trials = 10_000u32;
    let tracks = 10_000u32;
    let mut named = 0u32;
    let mut positions = SiteSampler::new(Sites::Auto, Stacks::Off, 99, 0.0);
    for trial in 0..trials {
      let mut js = JsSide::new(Sites::Auto, 1000 + u64::from(trial), 0.0);
      (js.tokens, js.refill_at) = js.sampler.refill(0.0, 0.0, 0.0);
      let mut leaky: Vec<u32> = (0..100)
        .map(|_| (positions.next_u64() % u64::from(tracks)) as u32)
        .collect();
      leaky.sort_unstable();
      let mut next = 0;
      let mut hit = false;
      for i in 0..tracks {
        let weight = js.track(f64::from(i) / 100.0);
        while next < leaky.len() && leaky[next] == i {
          hit |= weight > 0;
          next += 1;
        }
      }
      named += u32::from(hit);
    }
    let probability = f64::from(named) / f64::from(trials);
    assert!(
      probability >= 0.999,
      "named in {named} of {trials} trials ({probability})"
    );
  }

  #[test]
  fn sites_all_and_stacks_all_capture_every_site() {
    for (sites, stacks) in [(Sites::All, Stacks::Off), (Sites::Auto, Stacks::All)] {
      let mut sampler = SiteSampler::new(sites, stacks, 3, 0.0);
      assert_eq!(sampler.refill(0.0, 5.0, 100.0).0, f64::INFINITY);
      assert_eq!(sampler.site_gap(), NEVER);
    }
    assert_eq!(
      SiteSampler::new(Sites::Auto, Stacks::All, 3, 0.0).stack_gap(),
      1.0
    );
    assert_eq!(
      SiteSampler::new(Sites::Auto, Stacks::Off, 3, 0.0).stack_gap(),
      NEVER
    );
  }

  #[test]
  fn the_mean_gap_is_one_over_the_rate() {
    for rate in [0.5, 0.1, 0.01] {
      let mut sampler = SiteSampler::new(Sites::Auto, Stacks::Sample(rate), 42, 0.0);
      let n = 200_000;
      let total: f64 = (0..n).map(|_| sampler.stack_gap()).sum();
      let mean = total / f64::from(n);
      let expected = 1.0 / rate;
      assert!(
        (mean - expected).abs() < expected * 0.03,
        "rate {rate}: mean gap {mean}, expected {expected}"
      );
    }
    let mut never = SiteSampler::new(Sites::Auto, Stacks::Sample(0.0), 1, 0.0);
    assert_eq!(never.stack_gap(), NEVER);
    let mut always = SiteSampler::new(Sites::Auto, Stacks::Sample(1.0), 1, 0.0);
    assert_eq!(always.stack_gap(), 1.0);
  }

  #[test]
  fn the_bucket_refills_at_the_rate_and_above_it_the_rate_is_checked_every_second() {
    let mut sampler = SiteSampler::new(Sites::Auto, Stacks::Off, 5, 0.0);
    let checks = [
      (0.5, 0.6, 10.0, (1.1, 0.6), "0.5 left, 0.6 ms later"),
      (
        0.0,
        0.7,
        10.0,
        (0.0, 1000.7),
        "dry: above the rate, check in a second",
      ),
      (0.0, 600.0, 1000.0, (0.0, 1000.7), "not a second yet"),
      (
        0.0,
        1000.7,
        1000.0,
        (0.0, 2000.7),
        "2,000 tracks in that second: still above",
      ),
      (
        0.0,
        2000.7,
        999.0,
        (BURST, 2000.7),
        "999 in the next: below again, a full bucket",
      ),
      (
        BURST,
        60_000.0,
        5.0,
        (BURST, 60_000.0),
        "never more than the burst",
      ),
    ];
    for (left, now, tracks, expected, why) in checks {
      let (tokens, at) = sampler.refill(left, now, tracks);
      assert!(
        (tokens - expected.0).abs() < 1e-9 && (at - expected.1).abs() < 1e-9,
        "{why}: ({tokens}, {at})"
      );
    }
  }
}
