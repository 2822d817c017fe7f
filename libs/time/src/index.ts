export { CLOCK, ManualClock, SystemClock, type Clock } from './clock';
export { TimeModule } from './time.module';
export { canonicalTimeZone, isValidTimeZone, timeZoneSchema } from './time-zone';
export { nextWindow, WINDOW_UNITS, windowAt, windowsAt, type TimeWindow, type WindowUnit } from './windows';
export {
  cronPattern,
  localDate,
  nextSlot,
  previousSlot,
  WEEKDAY_NAMES,
  type DailySchedule,
  type Weekday,
} from './schedule';
export { isInsideWindow, nextOpening, type SendWindowSpec } from './send-window';
