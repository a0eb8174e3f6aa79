"""LLVM IR of the packed single-precision GEMM, ``C = A @ B`` with B packed.

B (K x N, a constant weight) is packed once, at compile time, into panels of
NR = 2 vectors of columns: ``packed[p, k, :]`` is row k of columns
``[p*NR, p*NR + NR)``, zero-padded past N (see ``gemm.pack``). A panel is then
read as one contiguous stream and no call repacks it: OpenBLAS repacks B on
every call, ONNX Runtime packs its initializers once, as here.

A is packed on each call (``PACK_A``), into blocks of MR rows stored k-major:
the MR values a step of k broadcasts are adjacent, one stream instead of MR
rows ``lda`` apart (which, 4 KB apart, also share an L1 set). On one core
that made W2's products 4-15 % faster, for a copy of A costing about 2 %.

The micro-kernel computes an MR x NR tile of C with its 2*MR accumulators in
registers: per k, two vector loads of the panel, MR broadcasts of A and 2*MR
fused multiply-adds (``fmul``/``fadd`` marked ``contract``: FMA where the CPU
has it, no ``fmaf`` library call where it has not). MR = 6 takes 12 of the 16
vector registers, leaving room for the two panel vectors and the broadcast.
The K loop is unrolled four times; a tile past N's edge is stored masked.
K is not blocked: with a block of a panel kept in L1 (BLIS's order) the W2
products ran at 75 and 66 GFLOP/s on one core against 82 and 70 unblocked,
the tile's extra loads and stores costing more than L2 reads of the panel.

The tile's stores are the epilogue of the layer: ``+ bias`` along N and a
ReLU, applied while the tile is in registers (the bias add and activation
of an MLP layer cost no pass over C of their own).

The exported functions and their flags are the ABI in ``common.gemm_abi``.
"""
from __future__ import annotations

from ..common.gemm_abi import BIAS, MR, PACK_A, RELU, SET_THREADS, SYMBOL, THREADS_OK

__all__ = ["BIAS", "MR", "PACK_A", "RELU", "SET_THREADS", "SYMBOL", "THREADS_OK", "UNROLL", "module_ir"]

#: iterations of the K loop per trip of its main loop
UNROLL = 4


def module_ir(lanes: int) -> str:
    """The whole module for vectors of ``lanes`` floats (8 with AVX, else 4)."""
    vec = f"<{lanes} x float>"
    head = [f"; netjit packed SGEMM: micro-kernel {MR} x {2 * lanes}, vectors {vec}",
            f"declare void @llvm.masked.store.v{lanes}f32.p0({vec}, ptr, i32, <{lanes} x i1>)",
            f"declare {vec} @llvm.masked.load.v{lanes}f32.p0(ptr, i32, <{lanes} x i1>, {vec})", ""]
    parts = [_micro(mr, lanes) for mr in range(1, MR + 1)] + [_driver(lanes), _pack_a(), _threads_flag()]
    return "\n".join(head + parts) + "\n"


def _micro(mr: int, lanes: int) -> str:
    """``void @micro<mr>(K, A, panel, C, ldc, ncols, bias, hasbias, relu)``:
    C[:mr, :ncols] = A[:mr] @ panel (A one packed block of rows), plus
    ``bias[:ncols]`` if ``hasbias``, then ``max(., 0)`` if ``relu``."""
    vec, nr = f"<{lanes} x float>", 2 * lanes
    accs = [(r, h) for r in range(mr) for h in range(2)]
    out = [f"define internal void @micro{mr}(i64 %K, ptr noalias %A, ptr noalias %B, "
           f"ptr noalias %C, i64 %ldc, i64 %ncols, ptr %bias, i1 %hasbias, i1 %relu) alwaysinline {{",
           "entry:"]
    for r in range(mr):
        out.append(f"  %arow{r} = getelementptr inbounds float, ptr %A, i64 {r}")
    out += [f"  %kmain = and i64 %K, {-UNROLL}",
            "  %any = icmp sgt i64 %kmain, 0",
            "  br i1 %any, label %main, label %mid",
            "main:",
            "  %k = phi i64 [0, %entry], [%knext, %main]"]
    last = {acc: f"%c{acc[0]}_{acc[1]}" for acc in accs}
    out += [f"  {last[acc]} = phi {vec} [zeroinitializer, %entry], [%c{acc[0]}_{acc[1]}_u{UNROLL - 1}, %main]"
            for acc in accs]
    for u in range(UNROLL):
        out.append(f"  %k_u{u} = add i64 %k, {u}")
        out += _step(mr, lanes, f"%k_u{u}", f"_u{u}", last)
    out += [f"  %knext = add i64 %k, {UNROLL}",
            "  %more = icmp slt i64 %knext, %kmain",
            "  br i1 %more, label %main, label %mid",
            "mid:"]
    out += [f"  %m{r}_{h} = phi {vec} [zeroinitializer, %entry], [{last[r, h]}, %main]" for r, h in accs]
    out += ["  %rest = icmp slt i64 %kmain, %K",
            "  br i1 %rest, label %tail, label %store",
            "tail:",
            "  %kt = phi i64 [%kmain, %mid], [%ktnext, %tail]"]
    tail = {(r, h): f"%t{r}_{h}" for r, h in accs}
    out += [f"  %t{r}_{h} = phi {vec} [%m{r}_{h}, %mid], [%c{r}_{h}_t, %tail]" for r, h in accs]
    out += _step(mr, lanes, "%kt", "_t", tail)
    out += ["  %ktnext = add i64 %kt, 1",
            "  %tmore = icmp slt i64 %ktnext, %K",
            "  br i1 %tmore, label %tail, label %store",
            "store:"]
    out += [f"  %f{r}_{h} = phi {vec} [%m{r}_{h}, %mid], [{tail[r, h]}, %tail]" for r, h in accs]
    out += [f"  %whole = icmp sge i64 %ncols, {nr}",
            "  br i1 %whole, label %plain, label %masked",
            "plain:"]
    out += _stores(mr, lanes, masked=False)
    out += ["  ret void", "masked:"]
    out += _stores(mr, lanes, masked=True)
    out += ["  ret void", "}", ""]
    return "\n".join(out)


def _step(mr: int, lanes: int, k: str, tag: str, acc: dict) -> list:
    """One k of the tile: two panel vectors, mr broadcasts, 2*mr multiply-adds.
    Updates ``acc`` (accumulator -> its latest SSA name) in place."""
    vec, nr = f"<{lanes} x float>", 2 * lanes
    out = [f"  %boff{tag} = mul i64 {k}, {nr}"]
    for h in range(2):
        out += [f"  %bo{tag}_{h} = add i64 %boff{tag}, {h * lanes}",
                f"  %bp{tag}_{h} = getelementptr inbounds float, ptr %B, i64 %bo{tag}_{h}",
                f"  %b{tag}_{h} = load {vec}, ptr %bp{tag}_{h}, align 4"]
    out.append(f"  %ka{tag} = mul i64 {k}, {MR}")
    for r in range(mr):
        out += [f"  %ap{tag}_{r} = getelementptr inbounds float, ptr %arow{r}, i64 %ka{tag}",
                f"  %a{tag}_{r} = load float, ptr %ap{tag}_{r}, align 4",
                f"  %ai{tag}_{r} = insertelement {vec} poison, float %a{tag}_{r}, i32 0",
                f"  %as{tag}_{r} = shufflevector {vec} %ai{tag}_{r}, {vec} poison, <{lanes} x i32> zeroinitializer"]
        for h in range(2):
            new = f"%c{r}_{h}{tag}"
            out += [f"  %p{r}_{h}{tag} = fmul contract {vec} %as{tag}_{r}, %b{tag}_{h}",
                    f"  {new} = fadd contract {vec} {acc[r, h]}, %p{r}_{h}{tag}"]
            acc[r, h] = new
    return out


def _stores(mr: int, lanes: int, masked: bool) -> list:
    """The epilogue (bias, ReLU) and the tile's stores; masked: only the columns
    below ``ncols``. Selects, not arithmetic, skip the bias and ReLU, so a
    product's -0.0 and NaN come out as they are."""
    vec, tag = f"<{lanes} x float>", "_mk" if masked else "_pl"
    out = []
    if masked:
        lane_ids = ", ".join(f"i64 {i}" for i in range(lanes))
        for h in range(2):
            out += [f"  %left{h} = sub i64 %ncols, {h * lanes}",
                    f"  %lins{h} = insertelement <{lanes} x i64> poison, i64 %left{h}, i32 0",
                    f"  %lspl{h} = shufflevector <{lanes} x i64> %lins{h}, <{lanes} x i64> poison, "
                    f"<{lanes} x i32> zeroinitializer",
                    f"  %mask{h} = icmp slt <{lanes} x i64> <{lane_ids}>, %lspl{h}"]
    for h in range(2):
        out.append(f"  %bb{h}{tag} = getelementptr inbounds float, ptr %bias, i64 {h * lanes}")
        if masked:
            out.append(f"  %bv{h}{tag} = call {vec} @llvm.masked.load.v{lanes}f32.p0(ptr %bb{h}{tag}, i32 4, "
                       f"<{lanes} x i1> %mask{h}, {vec} zeroinitializer)")
        else:
            out.append(f"  %bv{h}{tag} = load {vec}, ptr %bb{h}{tag}, align 4")
    for r in range(mr):
        out.append(f"  %co{r}{tag} = mul i64 %ldc, {r}")
        for h in range(2):
            out += [f"  %cc{r}_{h}{tag} = add i64 %co{r}{tag}, {h * lanes}",
                    f"  %cp{r}_{h}{tag} = getelementptr inbounds float, ptr %C, i64 %cc{r}_{h}{tag}"]
            v = f"{r}_{h}{tag}"
            out += [f"  %sum{v} = fadd {vec} %f{r}_{h}, %bv{h}{tag}",
                    f"  %biased{v} = select i1 %hasbias, {vec} %sum{v}, {vec} %f{r}_{h}",
                    f"  %neg{v} = fcmp olt {vec} %biased{v}, zeroinitializer",
                    f"  %cut{v} = select <{lanes} x i1> %neg{v}, {vec} zeroinitializer, {vec} %biased{v}",
                    f"  %out{v} = select i1 %relu, {vec} %cut{v}, {vec} %biased{v}"]
            if masked:
                out.append(f"  call void @llvm.masked.store.v{lanes}f32.p0({vec} %out{v}, ptr %cp{v}, "
                           f"i32 4, <{lanes} x i1> %mask{h})")
            else:
                out.append(f"  store {vec} %out{v}, ptr %cp{v}, align 4")
    return out


def _driver(lanes: int) -> str:
    """The exported function: every MR-row tile of each panel in ``[p0, p1)``."""
    nr = 2 * lanes
    cases = " ".join(f"i64 {mr}, label %m{mr}" for mr in range(1, MR))
    out = [f"define void @{SYMBOL}(i64 %M, i64 %N, i64 %K, ptr %A, ptr %B, ptr %C, i64 %ldc, "
           "i64 %p0, i64 %p1, ptr %bias, i32 %flags) {",
           "entry:",
           f"  %zeros = alloca [{nr} x float], align 32",
           f"  store [{nr} x float] zeroinitializer, ptr %zeros, align 32",
           f"  %biasbit = and i32 %flags, {BIAS}",
           "  %hasbias = icmp ne i32 %biasbit, 0",
           f"  %relubit = and i32 %flags, {RELU}",
           "  %relu = icmp ne i32 %relubit, 0",
           "  %anyp = icmp slt i64 %p0, %p1",
           "  %anym = icmp sgt i64 %M, 0",
           "  %any = and i1 %anyp, %anym",
           "  br i1 %any, label %panel, label %exit",
           "panel:",
           "  %p = phi i64 [%p0, %entry], [%pnext, %panel_end]",
           f"  %pstride = mul i64 %K, {nr}",
           "  %poff = mul i64 %p, %pstride",
           "  %bp = getelementptr inbounds float, ptr %B, i64 %poff",
           f"  %col = mul i64 %p, {nr}",
           "  %ncols = sub i64 %N, %col",
           "  %pbias = getelementptr float, ptr %bias, i64 %col",
           # no bias: the epilogue reads zeros (and ignores them), not the dummy ``bias``
           "  %bp_ep = select i1 %hasbias, ptr %pbias, ptr %zeros",
           "  br label %rows",
           "rows:",
           "  %i = phi i64 [0, %panel], [%inext, %row_end]",
           "  %left = sub i64 %M, %i",
           "  %aoff = mul i64 %i, %K",
           "  %ap = getelementptr inbounds float, ptr %A, i64 %aoff",
           "  %crow = mul i64 %i, %ldc",
           "  %coff = add i64 %crow, %col",
           "  %cp = getelementptr inbounds float, ptr %C, i64 %coff",
           f"  %whole = icmp sge i64 %left, {MR}",
           f"  br i1 %whole, label %m{MR}, label %part",
           "part:",
           f"  switch i64 %left, label %row_end [{cases}]"]
    for mr in range(1, MR + 1):
        out += [f"m{mr}:",
                f"  call void @micro{mr}(i64 %K, ptr %ap, ptr %bp, ptr %cp, i64 %ldc, i64 %ncols, "
                "ptr %bp_ep, i1 %hasbias, i1 %relu)",
                "  br label %row_end"]
    out += ["row_end:",
            f"  %inext = add i64 %i, {MR}",
            "  %morer = icmp slt i64 %inext, %M",
            "  br i1 %morer, label %rows, label %panel_end",
            "panel_end:",
            "  %pnext = add i64 %p, 1",
            "  %morep = icmp slt i64 %pnext, %p1",
            "  br i1 %morep, label %panel, label %exit",
            "exit:",
            "  ret void",
            "}"]
    return "\n".join(out)


def _pack_a() -> str:
    """``void PACK_A(M, K, A, lda, out)``: A (M x K, rows ``lda`` apart) as blocks of
    MR rows, ``out[b, k, r] = A[b*MR + r, k]``, rows past M zero."""
    out = [f"define void @{PACK_A}(i64 %M, i64 %K, ptr %A, i64 %lda, ptr %out) {{",
           "entry:",
           "  %anyk = icmp sgt i64 %K, 0",
           "  %anym = icmp sgt i64 %M, 0",
           "  %any = and i1 %anyk, %anym",
           "  br i1 %any, label %block, label %exit",
           "block:",
           "  %b = phi i64 [0, %entry], [%bnext, %block_end]",
           f"  %first = mul i64 %b, {MR}",
           "  %rows = sub i64 %M, %first",
           f"  %bsize = mul i64 %K, {MR}",
           "  %boff = mul i64 %b, %bsize",
           "  %dst = getelementptr inbounds float, ptr %out, i64 %boff"]
    for r in range(MR):
        # a row past M reads the block's first row (in bounds) and stores zero instead
        out += [f"  %valid{r} = icmp slt i64 {r}, %rows",
                f"  %rowr{r} = add i64 %first, {r}",
                f"  %row{r} = select i1 %valid{r}, i64 %rowr{r}, i64 %first",
                f"  %roff{r} = mul i64 %row{r}, %lda",
                f"  %src{r} = getelementptr inbounds float, ptr %A, i64 %roff{r}"]
    out += ["  br label %col",
            "col:",
            "  %k = phi i64 [0, %block], [%knext, %col]",
            f"  %dk = mul i64 %k, {MR}"]
    for r in range(MR):
        out += [f"  %sp{r} = getelementptr inbounds float, ptr %src{r}, i64 %k",
                f"  %v{r} = load float, ptr %sp{r}, align 4",
                f"  %z{r} = select i1 %valid{r}, float %v{r}, float 0.0",
                f"  %do{r} = add i64 %dk, {r}",
                f"  %dp{r} = getelementptr inbounds float, ptr %dst, i64 %do{r}",
                f"  store float %z{r}, ptr %dp{r}, align 4"]
    out += ["  %knext = add i64 %k, 1",
            "  %morek = icmp slt i64 %knext, %K",
            "  br i1 %morek, label %col, label %block_end",
            "block_end:",
            "  %bnext = add i64 %b, 1",
            f"  %next0 = mul i64 %bnext, {MR}",
            "  %moreb = icmp slt i64 %next0, %M",
            "  br i1 %moreb, label %block, label %exit",
            "exit:",
            "  ret void",
            "}"]
    return "\n".join(out)


def _threads_flag() -> str:
    """A process-wide flag generated code reads before it splits a product over
    threads (``packed_gemm``); Python clears it in a forked child (``numba.threads``)."""
    return "\n".join([
        "@netjit_sgemm_threads = global i32 1",
        f"define i32 @{THREADS_OK}() {{",
        "  %v = load volatile i32, ptr @netjit_sgemm_threads, align 4",
        "  ret i32 %v",
        "}",
        f"define void @{SET_THREADS}(i32 %v) {{",
        "  store volatile i32 %v, ptr @netjit_sgemm_threads, align 4",
        "  ret void",
        "}"])
