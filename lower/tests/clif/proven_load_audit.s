# proven_load.s in audit mode: the proven load is checked again, and a
# refusal records fault kind 7 (ProofViolation), not 1 (OutOfBounds).
# proven: 0
# audit
ldxw %r0, [%r1+4]
stxdw [%r10-8], %r0
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64) preserve_all
;;     fn0 = colocated u2:0 sig0
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v115 -> v1
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v13 = load.i64 notrap aligned v0+24
;;                                     v14 = iconst.i64 1
;;                                     v15 = icmp uge v13, v14  ; v14 = 1
;;                                     v16 = iconst.i64 0
;;                                     v17 = iadd v13, v16  ; v16 = 0
;;                                     v18 = iconst.i64 0
;;                                     v19 = select v15, v17, v18  ; v18 = 0
;;                                     v20 = iconst.i64 2
;;                                     v21 = icmp uge v13, v20  ; v20 = 2
;;                                     v22 = iconst.i64 -1
;;                                     v23 = iadd v13, v22  ; v22 = -1
;;                                     v24 = iconst.i64 0
;;                                     v25 = select v21, v23, v24  ; v24 = 0
;;                                     v26 = iconst.i64 4
;;                                     v27 = icmp uge v13, v26  ; v26 = 4
;;                                     v28 = iconst.i64 -3
;;                                     v29 = iadd v13, v28  ; v28 = -3
;;                                     v30 = iconst.i64 0
;;                                     v31 = select v27, v29, v30  ; v30 = 0
;;                                     v32 = iconst.i64 8
;;                                     v33 = icmp uge v13, v32  ; v32 = 8
;;                                     v34 = iconst.i64 -7
;;                                     v35 = iadd v13, v34  ; v34 = -7
;;                                     v36 = iconst.i64 0
;;                                     v37 = select v33, v35, v36  ; v36 = 0
;;                                     v38 = load.i64 notrap aligned v0+32
;;                                     v39 = iconst.i64 1
;;                                     v40 = icmp uge v38, v39  ; v39 = 1
;;                                     v41 = iconst.i64 0
;;                                     v42 = iadd v38, v41  ; v41 = 0
;;                                     v43 = iconst.i64 0
;;                                     v44 = select v40, v42, v43  ; v43 = 0
;;                                     v45 = iconst.i64 2
;;                                     v46 = icmp uge v38, v45  ; v45 = 2
;;                                     v47 = iconst.i64 -1
;;                                     v48 = iadd v38, v47  ; v47 = -1
;;                                     v49 = iconst.i64 0
;;                                     v50 = select v46, v48, v49  ; v49 = 0
;;                                     v51 = iconst.i64 4
;;                                     v52 = icmp uge v38, v51  ; v51 = 4
;;                                     v53 = iconst.i64 -3
;;                                     v54 = iadd v38, v53  ; v53 = -3
;;                                     v55 = iconst.i64 0
;;                                     v56 = select v52, v54, v55  ; v55 = 0
;;                                     v57 = iconst.i64 8
;;                                     v58 = icmp uge v38, v57  ; v57 = 8
;;                                     v59 = iconst.i64 -7
;;                                     v60 = iadd v38, v59  ; v59 = -7
;;                                     v61 = iconst.i64 0
;;                                     v62 = select v58, v60, v61  ; v61 = 0
;;                                     jump block3(v19, v25, v31, v37, v44, v50, v56, v62)
;;
;;                                 block3(v63: i64, v64: i64, v65: i64, v66: i64, v67: i64, v68: i64, v69: i64, v70: i64):
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v71 = iconst.i64 3
;; @0000                               v72 = icmp.i64 uge v12, v71  ; v71 = 3
;; @0000                               v73 = iconst.i64 3
;; @0000                               v74 = iconst.i64 0
;; @0000                               v75 = iconst.i64 0
;; @0000                               v76 = iconst.i64 0
;; @0000                               v77 = iconst.i64 0
;; @0000                               v78 = iconst.i64 0
;; @0000                               brif v72, block4, block5(v73, v75, v74, v76, v77, v78, v12)  ; v73 = 3, v75 = 0, v74 = 0, v76 = 0, v77 = 0, v78 = 0
;;
;;                                 block4:
;; @0000                               v86 = iconst.i64 -3
;; @0000                               v87 = iadd.i64 v12, v86  ; v86 = -3
;;                                     v129 -> v87
;;                                     v141 -> v87
;; @0000                               v88 = iconst.i64 4
;; @0000                               v89 = iadd.i64 v3, v88  ; v88 = 4
;; @0000                               v90 = load.i64 notrap aligned readonly can_move v0+16
;; @0000                               v91 = isub v89, v90
;; @0000                               v92 = icmp ult v91, v65
;; @0000                               brif v92, block6, block8
;;
;;                                 block8 cold:
;; @0000                               v93 = load.i64 notrap aligned readonly can_move v0
;; @0000                               v94 = isub.i64 v89, v93
;; @0000                               v95 = iconst.i64 4092
;; @0000                               v96 = icmp ule v94, v95  ; v95 = 4092
;; @0000                               brif v96, block6, block7
;;
;;                                 block7 cold:
;; @0000                               v97 = iconst.i64 4
;; @0000                               v98 = iconst.i64 0
;; @0000                               v99 = iconst.i64 7
;; @0000                               v100 = iconst.i64 0
;; @0000                               v101 = iconst.i64 4
;; @0000                               v102 = iconst.i64 0
;; @0000                               v103 = iconst.i64 2
;; @0000                               store.i64 notrap aligned v89, v0+80
;; @0000                               store notrap aligned v97, v0+88  ; v97 = 4
;; @0000                               store notrap aligned v98, v0+96  ; v98 = 0
;; @0000                               call fn0(v0)
;; @0000                               v111 = load.i64 notrap aligned v0+64
;; @0000                               v112 = iconst.i64 0
;; @0000                               v113 = icmp eq v111, v112  ; v112 = 0
;; @0000                               brif v113, block6, block9(v99, v100, v89, v101, v102, v103, v87)  ; v99 = 7, v100 = 0, v101 = 4, v102 = 0, v103 = 2
;;
;;                                 block6:
;; @0000                               v114 = uload32.i64 notrap little v89
;;                                     v140 -> v114
;; @0001                               v116 = iconst.i64 -8
;; @0001                               v117 = iadd.i64 v1, v116  ; v116 = -8
;; @0001                               v118 = load.i64 notrap aligned readonly can_move v0
;; @0001                               v119 = isub v117, v118
;; @0001                               v120 = iconst.i64 4088
;; @0001                               v121 = icmp ule v119, v120  ; v120 = 4088
;; @0001                               brif v121, block10, block11
;;
;;                                 block11 cold:
;; @0001                               v122 = iconst.i64 8
;; @0001                               v123 = iconst.i64 1
;; @0001                               v124 = iconst.i64 7
;; @0001                               v125 = iconst.i64 1
;; @0001                               v126 = iconst.i64 8
;; @0001                               v127 = iconst.i64 1
;; @0001                               v128 = iconst.i64 1
;; @0001                               store.i64 notrap aligned v117, v0+80
;; @0001                               store notrap aligned v122, v0+88  ; v122 = 8
;; @0001                               store notrap aligned v123, v0+96  ; v123 = 1
;; @0001                               call fn0(v0)
;; @0001                               v137 = load.i64 notrap aligned v0+64
;; @0001                               v138 = iconst.i64 0
;; @0001                               v139 = icmp eq v137, v138  ; v138 = 0
;; @0001                               brif v139, block10, block12(v124, v125, v117, v126, v127, v128, v87)  ; v124 = 7, v125 = 1, v126 = 8, v127 = 1, v128 = 1
;;
;;                                 block10:
;; @0001                               store.i64 notrap little v114, v117
;; @0002                               store.i64 notrap aligned v87, v0+56
;; @0002                               v142 = iconst.i64 0
;; @0002                               v143 = iconst.i64 0
;; @0002                               v144 = iconst.i64 0
;; @0002                               v145 = iconst.i64 0
;; @0002                               v146 = iconst.i64 0
;; @0002                               v147 = iconst.i64 0
;; @0002                               return v140, v142, v143, v144, v145, v146, v147  ; v142 = 0, v143 = 0, v144 = 0, v145 = 0, v146 = 0, v147 = 0
;;
;;                                 block5(v79: i64, v80: i64, v81: i64, v82: i64, v83: i64, v84: i64, v85: i64) cold:
;;                                     store notrap aligned v79, v0+64
;;                                     store notrap aligned v80, v0+72
;;                                     store notrap aligned v81, v0+80
;;                                     store notrap aligned v82, v0+88
;;                                     store notrap aligned v83, v0+96
;;                                     store notrap aligned v84, v0+104
;;                                     store notrap aligned v85, v0+56
;;                                     jump block2
;;
;;                                 block9(v104: i64, v105: i64, v106: i64, v107: i64, v108: i64, v109: i64, v110: i64) cold:
;;                                     store notrap aligned v104, v0+64
;;                                     store notrap aligned v105, v0+72
;;                                     store notrap aligned v106, v0+80
;;                                     store notrap aligned v107, v0+88
;;                                     store notrap aligned v108, v0+96
;;                                     store notrap aligned v109, v0+104
;;                                     store notrap aligned v110, v0+56
;;                                     jump block2
;;
;;                                 block12(v130: i64, v131: i64, v132: i64, v133: i64, v134: i64, v135: i64, v136: i64) cold:
;;                                     store notrap aligned v130, v0+64
;;                                     store notrap aligned v131, v0+72
;;                                     store notrap aligned v132, v0+80
;;                                     store notrap aligned v133, v0+88
;;                                     store notrap aligned v134, v0+96
;;                                     store notrap aligned v135, v0+104
;;                                     store notrap aligned v136, v0+56
;;                                     jump block2
;;
;;                                 block2 cold:
;;                                     v148 = iconst.i64 0
;;                                     v149 = iconst.i64 1
;;                                     return v148, v148, v148, v148, v148, v148, v149  ; v148 = 0, v148 = 0, v148 = 0, v148 = 0, v148 = 0, v148 = 0, v149 = 1
;; }
