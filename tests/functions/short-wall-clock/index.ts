// The limits probe again, as its own function with a 4 s wall clock (tests/functions/limits.json),
// so the wall-clock tests need not wait 150 s.
import "../limits-probe/index.ts";
