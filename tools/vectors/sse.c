void gen_sse(void *f){(void)f;}
