extern "C" int fused_expert(int x) { return x; }
