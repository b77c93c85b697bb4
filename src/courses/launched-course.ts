/**
 * The course of a launched session as the course pages read it. The web layer takes the type from
 * here rather than from storage (`web ↛ storage`).
 */
export type { Course } from '../storage/lti/courses.repository.ts';
