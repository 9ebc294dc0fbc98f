mov32 %r0, 7
div32 %r0, %r2
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v13 = iconst.i64 3
;; @0000                               v14 = icmp.i64 uge v12, v13  ; v13 = 3
;; @0000                               v15 = iconst.i64 3
;; @0000                               v16 = iconst.i64 0
;; @0000                               v17 = iconst.i64 0
;; @0000                               v18 = iconst.i64 0
;; @0000                               v19 = iconst.i64 0
;; @0000                               v20 = iconst.i64 0
;; @0000                               brif v14, block3, block4(v15, v17, v16, v18, v19, v20, v12)  ; v15 = 3, v17 = 0, v16 = 0, v18 = 0, v19 = 0, v20 = 0
;;
;;                                 block3:
;; @0000                               v28 = iconst.i64 -3
;; @0000                               v29 = iadd.i64 v12, v28  ; v28 = -3
;; @0000                               v30 = iconst.i32 7
;; @0000                               v31 = ireduce.i32 v2
;; @0000                               v32 = uextend.i64 v30  ; v30 = 7
;; @0001                               v33 = ireduce.i32 v32
;; @0001                               v34 = ireduce.i32 v4
;; @0001                               v35 = iconst.i32 0
;; @0001                               v36 = iconst.i32 1
;; @0001                               v37 = iconst.i32 0
;; @0001                               v38 = icmp eq v34, v37  ; v37 = 0
;; @0001                               v39 = select v38, v36, v34  ; v36 = 1
;; @0001                               v40 = udiv v33, v39
;; @0001                               v41 = select v38, v35, v40  ; v35 = 0
;; @0001                               v42 = uextend.i64 v41
;; @0002                               store notrap aligned v29, v0+56
;; @0002                               v43 = iconst.i64 0
;; @0002                               v44 = iconst.i64 0
;; @0002                               v45 = iconst.i64 0
;; @0002                               v46 = iconst.i64 0
;; @0002                               v47 = iconst.i64 0
;; @0002                               v48 = iconst.i64 0
;; @0002                               return v42, v43, v44, v45, v46, v47, v48  ; v43 = 0, v44 = 0, v45 = 0, v46 = 0, v47 = 0, v48 = 0
;;
;;                                 block4(v21: i64, v22: i64, v23: i64, v24: i64, v25: i64, v26: i64, v27: i64) cold:
;;                                     store notrap aligned v21, v0+64
;;                                     store notrap aligned v22, v0+72
;;                                     store notrap aligned v23, v0+80
;;                                     store notrap aligned v24, v0+88
;;                                     store notrap aligned v25, v0+96
;;                                     store notrap aligned v26, v0+104
;;                                     store notrap aligned v27, v0+56
;;                                     jump block2
;;
;;                                 block2 cold:
;;                                     v49 = iconst.i64 0
;;                                     v50 = iconst.i64 1
;;                                     return v49, v49, v49, v49, v49, v49, v50  ; v49 = 0, v49 = 0, v49 = 0, v49 = 0, v49 = 0, v49 = 0, v50 = 1
;; }
