import { AppError } from '../errors.ts';

/**
 * A launch by a person the district deleted on request. Deletion on request must stick while the
 * LMS still lists them, so the tool does not record them again on its own: the district decides
 * (it lifts the deletion record), and the person is told whom to ask.
 */
export class DeletedOnRequestError extends AppError {
  constructor(deletedAt: Date) {
    super(
      403,
      'deleted_on_request',
      `Your information was removed from Mastery Pathways on ${deletedAt.toISOString().slice(0, 10)} at your school district's request, so Mastery Pathways cannot open for you. To use it again, ask your school district to restore your access.`,
    );
  }
}
