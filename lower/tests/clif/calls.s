mov %r1, 3
call 5
call local f
exit
f:
mov %r0, %r1
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64, i64, i64, i64, i64, i64, i64) -> i64 system_v
;;     sig1 = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail
;;     fn0 = colocated u0:1 sig1
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v20 = iconst.i64 2
;; @0000                               v21 = icmp.i64 uge v12, v20  ; v20 = 2
;; @0000                               brif v21, block5, block6
;;
;;                                 block6 cold:
;; @0000                               v22 = iconst.i64 3
;; @0000                               v23 = iconst.i64 0
;; @0000                               v24 = iconst.i64 0
;; @0000                               v25 = iconst.i64 0
;; @0000                               v26 = iconst.i64 0
;; @0000                               v27 = iconst.i64 0
;; @0000                               jump block4(v22, v24, v23, v25, v26, v27, v12)  ; v22 = 3, v24 = 0, v23 = 0, v25 = 0, v26 = 0, v27 = 0
;;
;;                                 block5:
;; @0000                               v28 = iconst.i64 -2
;; @0000                               v29 = iadd.i64 v12, v28  ; v28 = -2
;; @0000                               v30 = iconst.i64 3
;; @0001                               v31 = iconst.i64 5
;; @0001                               v32 = iconst.i64 0
;; @0001                               v33 = call_indirect sig0, v32(v0, v31, v30, v4, v5, v6, v7)  ; v32 = 0, v31 = 5, v30 = 3
;; @0001                               v34 = load.i64 notrap aligned v0+64
;; @0001                               brif v34, block7, block8
;;
;;                                 block7 cold:
;; @0001                               v35 = load.i64 notrap aligned v0+80
;; @0001                               v36 = iconst.i64 1
;; @0001                               v37 = iconst.i64 0
;; @0001                               v38 = iconst.i64 0
;; @0001                               v39 = iconst.i64 0
;; @0001                               jump block4(v34, v36, v35, v37, v38, v39, v29)  ; v36 = 1, v37 = 0, v38 = 0, v39 = 0
;;
;;                                 block8:
;; @0002                               jump block2
;;
;;                                 block2:
;; @0002                               v40 = iconst.i64 1
;; @0002                               v41 = icmp.i64 uge v29, v40  ; v40 = 1
;; @0002                               brif v41, block9, block10
;;
;;                                 block10 cold:
;; @0002                               v42 = iconst.i64 3
;; @0002                               v43 = iconst.i64 0
;; @0002                               v44 = iconst.i64 2
;; @0002                               v45 = iconst.i64 0
;; @0002                               v46 = iconst.i64 0
;; @0002                               v47 = iconst.i64 0
;; @0002                               jump block4(v42, v44, v43, v45, v46, v47, v29)  ; v42 = 3, v44 = 2, v43 = 0, v45 = 0, v46 = 0, v47 = 0
;;
;;                                 block9:
;; @0002                               v48 = iconst.i64 -1
;; @0002                               v49 = iadd.i64 v29, v48  ; v48 = -1
;; @0002                               v50 = load.i64 notrap aligned readonly can_move v0
;; @0002                               v51 = isub.i64 v1, v50
;; @0002                               v52 = iconst.i64 1024
;; @0002                               v53 = icmp uge v51, v52  ; v52 = 1024
;; @0002                               brif v53, block11, block12
;;
;;                                 block12 cold:
;; @0002                               v54 = iconst.i64 4
;; @0002                               v55 = iconst.i64 0
;; @0002                               v56 = iconst.i64 2
;; @0002                               v57 = iconst.i64 0
;; @0002                               v58 = iconst.i64 0
;; @0002                               v59 = iconst.i64 0
;; @0002                               jump block4(v54, v56, v55, v57, v58, v59, v49)  ; v54 = 4, v56 = 2, v55 = 0, v57 = 0, v58 = 0, v59 = 0
;;
;;                                 block11:
;; @0002                               store.i64 notrap aligned v49, v0+56
;; @0002                               v60 = iconst.i64 -512
;; @0002                               v61 = iadd.i64 v1, v60  ; v60 = -512
;; @0002                               v62, v63, v64, v65, v66, v67, v68 = call fn0(v0, v61, v33, v30, v4, v5, v6, v7, v8, v9, v10, v11)  ; v30 = 3
;; @0002                               brif v68, block13, block14
;;
;;                                 block13 cold:
;; @0002                               return v62, v63, v64, v65, v66, v67, v68
;;
;;                                 block14:
;; @0002                               v69 = load.i64 notrap aligned v0+56
;; @0003                               jump block3
;;
;;                                 block3:
;; @0003                               v70 = iconst.i64 1
;; @0003                               v71 = icmp.i64 uge v69, v70  ; v70 = 1
;; @0003                               brif v71, block15, block16
;;
;;                                 block16 cold:
;; @0003                               v72 = iconst.i64 3
;; @0003                               v73 = iconst.i64 0
;; @0003                               v74 = iconst.i64 3
;; @0003                               v75 = iconst.i64 0
;; @0003                               v76 = iconst.i64 0
;; @0003                               v77 = iconst.i64 0
;; @0003                               jump block4(v72, v74, v73, v75, v76, v77, v69)  ; v72 = 3, v74 = 3, v73 = 0, v75 = 0, v76 = 0, v77 = 0
;;
;;                                 block15:
;; @0003                               v78 = iconst.i64 -1
;; @0003                               v79 = iadd.i64 v69, v78  ; v78 = -1
;; @0003                               store notrap aligned v79, v0+56
;; @0003                               v80 = iconst.i64 0
;; @0003                               v81 = iconst.i64 0
;; @0003                               v82 = iconst.i64 0
;; @0003                               v83 = iconst.i64 0
;; @0003                               v84 = iconst.i64 0
;; @0003                               v85 = iconst.i64 0
;; @0003                               return v62, v80, v81, v82, v83, v84, v85  ; v80 = 0, v81 = 0, v82 = 0, v83 = 0, v84 = 0, v85 = 0
;;
;;                                 block4(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v86 = iconst.i64 0
;;                                     v87 = iconst.i64 1
;;                                     return v86, v86, v86, v86, v86, v86, v87  ; v86 = 0, v86 = 0, v86 = 0, v86 = 0, v86 = 0, v86 = 0, v87 = 1
;; }
;; function u0:1(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     jump block1
;;
;;                                 block1:
;; @0004                               v20 = iconst.i64 2
;; @0004                               v21 = icmp.i64 uge v12, v20  ; v20 = 2
;; @0004                               brif v21, block3, block4
;;
;;                                 block4 cold:
;; @0004                               v22 = iconst.i64 3
;; @0004                               v23 = iconst.i64 0
;; @0004                               v24 = iconst.i64 4
;; @0004                               v25 = iconst.i64 0
;; @0004                               v26 = iconst.i64 0
;; @0004                               v27 = iconst.i64 0
;; @0004                               jump block2(v22, v24, v23, v25, v26, v27, v12)  ; v22 = 3, v24 = 4, v23 = 0, v25 = 0, v26 = 0, v27 = 0
;;
;;                                 block3:
;; @0004                               v28 = iconst.i64 -2
;; @0004                               v29 = iadd.i64 v12, v28  ; v28 = -2
;; @0005                               store notrap aligned v29, v0+56
;; @0005                               v30 = iconst.i64 0
;; @0005                               return v3, v3, v4, v5, v6, v7, v30  ; v30 = 0
;;
;;                                 block2(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v31 = iconst.i64 0
;;                                     v32 = iconst.i64 1
;;                                     return v31, v31, v31, v31, v31, v31, v32  ; v31 = 0, v31 = 0, v31 = 0, v31 = 0, v31 = 0, v31 = 0, v32 = 1
;; }
