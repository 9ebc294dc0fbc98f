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
;; @0000                               v13 = iconst.i64 2
;; @0000                               v14 = icmp.i64 uge v12, v13  ; v13 = 2
;; @0000                               v15 = iconst.i64 3
;; @0000                               v16 = iconst.i64 0
;; @0000                               v17 = iconst.i64 0
;; @0000                               v18 = iconst.i64 0
;; @0000                               v19 = iconst.i64 0
;; @0000                               v20 = iconst.i64 0
;; @0000                               brif v14, block5, block6(v15, v17, v16, v18, v19, v20, v12)  ; v15 = 3, v17 = 0, v16 = 0, v18 = 0, v19 = 0, v20 = 0
;;
;;                                 block5:
;; @0000                               v28 = iconst.i64 -2
;; @0000                               v29 = iadd.i64 v12, v28  ; v28 = -2
;; @0000                               v30 = iconst.i64 3
;; @0001                               v31 = iconst.i64 5
;; @0001                               v32 = iconst.i64 0
;; @0001                               v33 = call_indirect sig0, v32(v0, v31, v30, v4, v5, v6, v7)  ; v32 = 0, v31 = 5, v30 = 3
;; @0001                               v34 = load.i64 notrap aligned v0+64
;; @0001                               v35 = iconst.i64 0
;; @0001                               v36 = icmp eq v34, v35  ; v35 = 0
;; @0001                               brif v36, block8, block7
;;
;;                                 block7 cold:
;; @0001                               v37 = load.i64 notrap aligned v0+80
;; @0001                               v38 = iconst.i64 1
;; @0001                               v39 = iconst.i64 0
;; @0001                               v40 = iconst.i64 0
;; @0001                               v41 = iconst.i64 0
;; @0001                               jump block9(v34, v38, v37, v39, v40, v41, v29)  ; v38 = 1, v39 = 0, v40 = 0, v41 = 0
;;
;;                                 block8:
;; @0002                               jump block2
;;
;;                                 block2:
;; @0002                               v49 = iconst.i64 1
;; @0002                               v50 = icmp.i64 uge v29, v49  ; v49 = 1
;; @0002                               v51 = iconst.i64 3
;; @0002                               v52 = iconst.i64 0
;; @0002                               v53 = iconst.i64 2
;; @0002                               v54 = iconst.i64 0
;; @0002                               v55 = iconst.i64 0
;; @0002                               v56 = iconst.i64 0
;; @0002                               brif v50, block10, block11(v51, v53, v52, v54, v55, v56, v29)  ; v51 = 3, v53 = 2, v52 = 0, v54 = 0, v55 = 0, v56 = 0
;;
;;                                 block10:
;; @0002                               v64 = iconst.i64 -1
;; @0002                               v65 = iadd.i64 v29, v64  ; v64 = -1
;; @0002                               v66 = load.i64 notrap aligned readonly can_move v0
;; @0002                               v67 = isub.i64 v1, v66
;; @0002                               v68 = iconst.i64 1024
;; @0002                               v69 = icmp uge v67, v68  ; v68 = 1024
;; @0002                               brif v69, block12, block13
;;
;;                                 block13 cold:
;; @0002                               v70 = iconst.i64 4
;; @0002                               v71 = iconst.i64 0
;; @0002                               v72 = iconst.i64 2
;; @0002                               v73 = iconst.i64 0
;; @0002                               v74 = iconst.i64 0
;; @0002                               v75 = iconst.i64 0
;; @0002                               jump block14(v70, v72, v71, v73, v74, v75, v65)  ; v70 = 4, v72 = 2, v71 = 0, v73 = 0, v74 = 0, v75 = 0
;;
;;                                 block12:
;; @0002                               store.i64 notrap aligned v65, v0+56
;; @0002                               v83 = iconst.i64 -512
;; @0002                               v84 = iadd.i64 v1, v83  ; v83 = -512
;; @0002                               v85, v86, v87, v88, v89, v90, v91 = call fn0(v0, v84, v33, v30, v4, v5, v6, v7, v8, v9, v10, v11)  ; v30 = 3
;; @0002                               v92 = iconst.i64 0
;; @0002                               v93 = icmp eq v91, v92  ; v92 = 0
;; @0002                               brif v93, block16, block15
;;
;;                                 block15 cold:
;; @0002                               return v85, v86, v87, v88, v89, v90, v91
;;
;;                                 block16:
;; @0002                               v94 = load.i64 notrap aligned v0+56
;; @0003                               jump block3
;;
;;                                 block3:
;; @0003                               v95 = iconst.i64 1
;; @0003                               v96 = icmp.i64 uge v94, v95  ; v95 = 1
;; @0003                               v97 = iconst.i64 3
;; @0003                               v98 = iconst.i64 0
;; @0003                               v99 = iconst.i64 3
;; @0003                               v100 = iconst.i64 0
;; @0003                               v101 = iconst.i64 0
;; @0003                               v102 = iconst.i64 0
;; @0003                               brif v96, block17, block18(v97, v99, v98, v100, v101, v102, v94)  ; v97 = 3, v99 = 3, v98 = 0, v100 = 0, v101 = 0, v102 = 0
;;
;;                                 block17:
;; @0003                               v110 = iconst.i64 -1
;; @0003                               v111 = iadd.i64 v94, v110  ; v110 = -1
;; @0003                               store notrap aligned v111, v0+56
;; @0003                               v112 = iconst.i64 0
;; @0003                               v113 = iconst.i64 0
;; @0003                               v114 = iconst.i64 0
;; @0003                               v115 = iconst.i64 0
;; @0003                               v116 = iconst.i64 0
;; @0003                               v117 = iconst.i64 0
;; @0003                               return v85, v112, v113, v114, v115, v116, v117  ; v112 = 0, v113 = 0, v114 = 0, v115 = 0, v116 = 0, v117 = 0
;;
;;                                 block6(v21: i64, v22: i64, v23: i64, v24: i64, v25: i64, v26: i64, v27: i64) cold:
;;                                     store notrap aligned v21, v0+64
;;                                     store notrap aligned v22, v0+72
;;                                     store notrap aligned v23, v0+80
;;                                     store notrap aligned v24, v0+88
;;                                     store notrap aligned v25, v0+96
;;                                     store notrap aligned v26, v0+104
;;                                     store notrap aligned v27, v0+56
;;                                     jump block4
;;
;;                                 block9(v42: i64, v43: i64, v44: i64, v45: i64, v46: i64, v47: i64, v48: i64) cold:
;;                                     store notrap aligned v42, v0+64
;;                                     store notrap aligned v43, v0+72
;;                                     store notrap aligned v44, v0+80
;;                                     store notrap aligned v45, v0+88
;;                                     store notrap aligned v46, v0+96
;;                                     store notrap aligned v47, v0+104
;;                                     store notrap aligned v48, v0+56
;;                                     jump block4
;;
;;                                 block11(v57: i64, v58: i64, v59: i64, v60: i64, v61: i64, v62: i64, v63: i64) cold:
;;                                     store notrap aligned v57, v0+64
;;                                     store notrap aligned v58, v0+72
;;                                     store notrap aligned v59, v0+80
;;                                     store notrap aligned v60, v0+88
;;                                     store notrap aligned v61, v0+96
;;                                     store notrap aligned v62, v0+104
;;                                     store notrap aligned v63, v0+56
;;                                     jump block4
;;
;;                                 block14(v76: i64, v77: i64, v78: i64, v79: i64, v80: i64, v81: i64, v82: i64) cold:
;;                                     store notrap aligned v76, v0+64
;;                                     store notrap aligned v77, v0+72
;;                                     store notrap aligned v78, v0+80
;;                                     store notrap aligned v79, v0+88
;;                                     store notrap aligned v80, v0+96
;;                                     store notrap aligned v81, v0+104
;;                                     store notrap aligned v82, v0+56
;;                                     jump block4
;;
;;                                 block18(v103: i64, v104: i64, v105: i64, v106: i64, v107: i64, v108: i64, v109: i64) cold:
;;                                     store notrap aligned v103, v0+64
;;                                     store notrap aligned v104, v0+72
;;                                     store notrap aligned v105, v0+80
;;                                     store notrap aligned v106, v0+88
;;                                     store notrap aligned v107, v0+96
;;                                     store notrap aligned v108, v0+104
;;                                     store notrap aligned v109, v0+56
;;                                     jump block4
;;
;;                                 block4 cold:
;;                                     v118 = iconst.i64 0
;;                                     v119 = iconst.i64 1
;;                                     return v118, v118, v118, v118, v118, v118, v119  ; v118 = 0, v118 = 0, v118 = 0, v118 = 0, v118 = 0, v118 = 0, v119 = 1
;; }
;; function u0:1(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     jump block1
;;
;;                                 block1:
;; @0004                               v13 = iconst.i64 2
;; @0004                               v14 = icmp.i64 uge v12, v13  ; v13 = 2
;; @0004                               v15 = iconst.i64 3
;; @0004                               v16 = iconst.i64 0
;; @0004                               v17 = iconst.i64 4
;; @0004                               v18 = iconst.i64 0
;; @0004                               v19 = iconst.i64 0
;; @0004                               v20 = iconst.i64 0
;; @0004                               brif v14, block3, block4(v15, v17, v16, v18, v19, v20, v12)  ; v15 = 3, v17 = 4, v16 = 0, v18 = 0, v19 = 0, v20 = 0
;;
;;                                 block3:
;; @0004                               v28 = iconst.i64 -2
;; @0004                               v29 = iadd.i64 v12, v28  ; v28 = -2
;; @0005                               store notrap aligned v29, v0+56
;; @0005                               v30 = iconst.i64 0
;; @0005                               return v3, v3, v4, v5, v6, v7, v30  ; v30 = 0
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
;;                                     v31 = iconst.i64 0
;;                                     v32 = iconst.i64 1
;;                                     return v31, v31, v31, v31, v31, v31, v32  ; v31 = 0, v31 = 0, v31 = 0, v31 = 0, v31 = 0, v31 = 0, v32 = 1
;; }
