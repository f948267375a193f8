# bench/plots.gp: the two figures of bench/results/, drawn by bench/run.sh:
#
#   gnuplot -e "dir='bench/results'; real_connect_ns=N; plain_cycle_ir=I" bench/plots.gp
#
# rps.png from dir/rps.dat (one row per client case: label, then median,
# min and max requests/s at 1 thread, then the same at 4 threads), and
# checkout.png from dir/checkout.dat (block 0: idle sockets per destination,
# one destination; block 1: destinations, one idle socket each; columns:
# N, ns per connect() served from the pool, instructions per request
# cycle), in two panels.  real_connect_ns (a real loopback connect()) and
# plain_cycle_ir (the cycle's instructions), both without sockpool, are
# drawn dashed for scale.

set terminal pngcairo size 1100,520 font "sans,10"
set encoding utf8

set output dir.'/rps.png'
set title "naive\\_client against nginx on loopback: requests/s (median, bars min–max)"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set ylabel "requests/s"
set key top left
set xtics scale 0
plot dir.'/rps.dat' using 2:3:4:xtic(1) title "1 thread" lc rgb "#4878a8", \
     '' using 5:6:7 title "4 threads" lc rgb "#e08030"

set output dir.'/checkout.png'
unset style
unset title
set style data linespoints
set logscale x
set grid xtics ytics
set xrange [0.8:1250]
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set xlabel "N"
set key top left opaque box
set multiplot layout 1,2 title "a checkout from a pool of N idle connections: one destination, or one each to N destinations"
set title "wall time of connect() (median)"
set ylabel "ns per connect()"
plot dir.'/checkout.dat' index 0 using 1:2 title "N idle to one destination" lw 2 pt 7 lc rgb "#4878a8", \
     '' index 1 using 1:2 title "1 idle to each of N destinations" lw 2 pt 5 lc rgb "#e08030", \
     real_connect_ns with lines dt 2 lw 2 lc rgb "#808080" title "real loopback connect(), no sockpool"
set title "instructions per request cycle (callgrind, user space)"
set ylabel "instructions per socket+connect+GET+close"
plot dir.'/checkout.dat' index 0 using 1:3 title "N idle to one destination" lw 2 pt 7 lc rgb "#4878a8", \
     '' index 1 using 1:3 title "1 idle to each of N destinations" lw 2 pt 5 lc rgb "#e08030", \
     plain_cycle_ir with lines dt 2 lw 2 lc rgb "#808080" title "the same cycle without sockpool"
unset multiplot
